"""GovStack Digital Registries Data API over HTTP: who may call, every operation (and its old kebab-case spelling),
the spec's body shapes, problem+json errors, and the citizen's own data-usage log."""
import json
import urllib.error
import urllib.request

import pytest
from django.test import Client

from egov.accounts.models import Role, User
from egov.kernel.models import Event
from egov.registries.models import RegistryRecord
from tests.govstack.conftest import BASE, POPULATION, PURPOSE, SHOPS

pytestmark = pytest.mark.django_db

SHOP = {"tax_code": "0312345678", "name": "Tạp hoá Minh Anh", "owner_pin": "079090001234", "employees": 2}


def create(api, system, content=None):
    response = api.post(f"{SHOPS}/create", {"write": {"content": content or SHOP}}, headers=system.headers)
    assert response.status_code == 200, response.content
    return response.json()["content"]


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    return body


# --- Who may call ----------------------------------------------------------------------------------------------------

def test_without_credentials_every_operation_is_401(api, shops):
    response = api.post(f"{SHOPS}/read", {"query": {"content": {"tax_code": "0312345678"}}})
    body = is_problem(response, 401)
    assert "Bearer" in response["WWW-Authenticate"]
    assert body["title"] == "Authentication required"
    assert "send your client system's API key" in body["detail"]  # says what to send, not just "Unauthorized"
    assert api.get(SHOPS).status_code == 401
    assert api.delete(f"{SHOPS}/00000000-0000-0000-0000-000000000000/delete").status_code == 401


def test_an_unknown_api_key_is_401(api, shops):
    response = api.get(SHOPS, headers={"Authorization": "Bearer egk_not-a-key"})
    assert "API key is not valid" in is_problem(response, 401)["detail"]
    assert response["WWW-Authenticate"]


def test_the_key_is_accepted_in_every_spelling(api, shops, reader):
    for header in (f"Bearer {reader.key}", f"ApiKey {reader.key}", reader.key):
        assert api.get(SHOPS, headers={"Authorization": header}).status_code == 200


def test_a_client_without_the_right_is_403(api, shops, stranger, reader):
    assert "no right to read" in is_problem(api.get(SHOPS, headers=stranger.headers), 403)["detail"]
    write = api.post(f"{SHOPS}/create", {"write": {"content": SHOP}}, headers=reader.headers)
    assert "no right to write" in is_problem(write, 403)["detail"]
    assert not RegistryRecord.objects.exists()


def test_a_forged_mediator_header_from_an_untrusted_source_is_401(api, shops, hotich):
    response = api.post(f"{SHOPS}/create", {"write": {"content": SHOP}},
                        headers={"Information-Mediator-Client": "VN/GOV/000.00.12.H29/hotich"})
    assert "only from a trusted mediator" in is_problem(response, 401)["detail"]
    assert not RegistryRecord.objects.exists()


def test_the_mediator_header_from_a_trusted_mediator_names_the_caller(api, shops, hotich, trusted_mediator):
    response = api.post(f"{SHOPS}/create", {"write": {"content": SHOP}}, REMOTE_ADDR=trusted_mediator,
                        headers={"Information-Mediator-Client": "VN/GOV/000.00.12.H29/hotich"})
    assert response.status_code == 200, response.content
    event = Event.objects.get(event_type="registry.record_created")
    assert event.actor_id == hotich.client.pk


def test_a_trusted_mediator_naming_an_unknown_system_is_401(api, shops, trusted_mediator):
    response = api.get(SHOPS, REMOTE_ADDR=trusted_mediator,
                       headers={"Information-Mediator-Client": "VN/GOV/000.00.12.H29/unknown"})
    assert "unknown or disabled" in is_problem(response, 401)["detail"]


def test_a_key_with_a_header_naming_another_system_is_401(api, shops, reader, hotich):
    response = api.get(SHOPS, headers={**reader.headers, "Information-Mediator-Client": hotich.identifier})
    assert "names another system" in is_problem(response, 401)["detail"]


def test_bad_client_credentials_are_401_even_with_a_session(api, client, shops, citizen_an):
    client.force_login(citizen_an)
    assert api.get(SHOPS, headers={"Authorization": "Bearer egk_forged"}).status_code == 401


# --- Operations ------------------------------------------------------------------------------------------------------

def test_create_returns_the_record_with_its_reference(api, shops, hotich):
    content = create(api, hotich)
    assert content == {**SHOP, "uuid": content["uuid"]}
    assert RegistryRecord.objects.get().uid.hex == content["uuid"].replace("-", "")


def test_read_finds_a_record_by_a_searchable_field(api, shops, hotich, reader):
    created = create(api, hotich)
    response = api.post(f"{SHOPS}/read", {"query": {"content": {"tax_code": "0312345678"}}}, headers=reader.headers)
    assert response.status_code == 200
    assert response.json() == {"content": created}


def test_read_answers_json_in_the_spec_shape(api, shops, hotich, reader):
    # The read renders its answer itself (no second validation against ContentOut): same type, same shape.
    created = create(api, hotich)
    response = api.post(f"{SHOPS}/read", {"query": {"content": {"tax_code": "0312345678"}}}, headers=reader.headers)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert list(response.json()) == ["content"] and response.json()["content"]["uuid"] == created["uuid"]


def test_a_changed_registry_definition_is_seen_by_the_next_call(api, shops, hotich, reader):
    """Each process keeps the registry built from its row; a change of the row, even by a queryset update that
    leaves updated_at alone, is seen at once."""
    from egov.registries.models import Registry

    create(api, hotich)
    query = {"query": {"content": {"tax_code": "0312345678"}}}
    assert api.post(f"{SHOPS}/read", query, headers=reader.headers).status_code == 200
    Registry.objects.filter(code="ho-kinh-doanh").update(searchable_fields=["owner_pin"])
    assert is_problem(api.post(f"{SHOPS}/read", query, headers=reader.headers), 422)["field"] == "query.tax_code"
    Registry.objects.filter(code="ho-kinh-doanh").update(searchable_fields=["tax_code", "owner_pin"])
    assert api.post(f"{SHOPS}/read", query, headers=reader.headers).status_code == 200
    Registry.objects.filter(code="ho-kinh-doanh").update(is_active=False)
    is_problem(api.post(f"{SHOPS}/read", query, headers=reader.headers), 404)


def test_read_without_a_match_is_404_no_record_found(api, shops, reader):
    response = api.post(f"{SHOPS}/read", {"query": {"content": {"tax_code": "0399999999"}}}, headers=reader.headers)
    assert is_problem(response, 404)["detail"] == "no record found"


def test_reads_404_is_the_problem_the_document_describes(api, client, shops, reader):
    """As every egov error: application/problem+json (not a bare {"detail": …} as application/json), whether no
    record matches or there is no such registry."""
    from tests.api.contract import assert_documented, openapi

    document, template = openapi(client), "/api/govstack/digital-registries/data/{registryName}/{versionNumber}/read"
    query = {"query": {"content": {"tax_code": "0399999999"}}}
    for path in (f"{SHOPS}/read", f"{BASE}/no-such/1.0/read"):
        response = api.post(path, query, headers=reader.headers)
        assert response.status_code == 404
        assert assert_documented(document, "post", template, response)["title"] == "Not found"


def test_exists_answers_true_or_false(api, shops, hotich):
    create(api, hotich)
    yes = api.post(f"{SHOPS}/exists", {"query": {"content": {"tax_code": "0312345678"}}}, headers=hotich.headers)
    no = api.post(f"{SHOPS}/exists", {"query": {"content": {"tax_code": "0399999999"}}}, headers=hotich.headers)
    assert yes.json()["answer"]["status"] is True and yes.json()["answer"]["message"]
    assert no.json()["answer"]["status"] is False


@pytest.mark.parametrize("operation", ["update", "updateEntries", "update-entries"])
def test_update_merges_the_written_fields(api, shops, hotich, operation):
    created = create(api, hotich)
    response = api.put(f"{SHOPS}/{operation}", {"query": {"content": {"tax_code": "0312345678"}},
                                                "write": {"content": {"employees": 5}}}, headers=hotich.headers)
    assert response.status_code == 200, response.content
    assert response.json()["answer"]["status"] is True and response.json()["count"] == 1
    read = api.post(f"{SHOPS}/read", {"query": {"content": {"uuid": created["uuid"]}}}, headers=hotich.headers)
    assert read.json()["content"] == {**created, "employees": 5}


def test_update_changes_one_record_and_update_entries_every_match(api, shops, hotich):
    for tax_code in ("0312345678", "0312345679"):
        create(api, hotich, {**SHOP, "tax_code": tax_code})
    owner = {"query": {"content": {"owner_pin": "079090001234"}}, "write": {"content": {"district": "Quận 1"}}}
    assert api.put(f"{SHOPS}/update", owner, headers=hotich.headers).json()["count"] == 1
    assert api.put(f"{SHOPS}/updateEntries", owner, headers=hotich.headers).json()["count"] == 2


def test_update_without_a_match_is_404(api, shops, hotich):
    response = api.put(f"{SHOPS}/update", {"query": {"content": {"tax_code": "0399999999"}},
                                           "write": {"content": {"employees": 1}}}, headers=hotich.headers)
    is_problem(response, 404)


def test_update_needs_a_query(api, shops, hotich):
    response = api.put(f"{SHOPS}/update", {"write": {"content": {"employees": 1}}}, headers=hotich.headers)
    assert is_problem(response, 422)["field"] == "query"


@pytest.mark.parametrize("operation", ["updateOrCreate", "update-or-create"])
def test_update_or_create_creates_then_updates(api, shops, hotich, operation):
    body = {"query": {"content": {"tax_code": "0312345678"}}, "write": {"content": {"name": "Tạp hoá Minh Anh"}}}
    first = api.post(f"{SHOPS}/{operation}", body, headers=hotich.headers)
    assert first.status_code == 200, first.content
    body["write"]["content"] = {"name": "Tạp hoá Minh Anh 2"}
    second = api.post(f"{SHOPS}/{operation}", body, headers=hotich.headers)
    assert second.json()["content"]["uuid"] == first.json()["content"]["uuid"]
    assert second.json()["content"]["name"] == "Tạp hoá Minh Anh 2"
    assert RegistryRecord.objects.count() == 1


def test_delete_on_an_ordinary_registry_is_204(api, shops, hotich):
    created = create(api, hotich)
    response = api.delete(f"{SHOPS}/{created['uuid']}/delete", headers=hotich.headers)
    assert response.status_code == 204 and response.content == b""
    assert not RegistryRecord.objects.exists()
    assert api.delete(f"{SHOPS}/{created['uuid']}/delete", headers=hotich.headers).status_code == 404


def test_delete_of_a_malformed_reference_is_422(api, shops, hotich):
    assert is_problem(api.delete(f"{SHOPS}/not-a-uuid/delete", headers=hotich.headers), 422)["field"] == "uuid"


def test_delete_on_the_protected_population_registry_is_403(api, population, an, hotich):
    response = api.delete(f"{POPULATION}/{an.uid}/delete", headers=hotich.headers)
    assert "protected" in is_problem(response, 403)["detail"]


@pytest.mark.parametrize("operation", ["readValue", "read-value"])
def test_read_value_gives_one_field_as_json(api, shops, hotich, operation):
    created = create(api, hotich)
    response = api.get(f"{SHOPS}/{created['uuid']}/{operation}/name.json", headers=hotich.headers)
    assert response.status_code == 200
    assert response.json() == {"value": "Tạp hoá Minh Anh"}


def test_read_value_serves_only_json(api, shops, hotich):
    created = create(api, hotich)
    response = api.get(f"{SHOPS}/{created['uuid']}/readValue/name.xml", headers=hotich.headers)
    body = is_problem(response, 400)
    assert body["field"] == "ext" and ".json" in body["detail"]


def test_read_value_of_an_unknown_field_or_record_is_404(api, shops, hotich):
    created = create(api, hotich)
    is_problem(api.get(f"{SHOPS}/{created['uuid']}/readValue/colour.json", headers=hotich.headers), 404)
    missing = "00000000-0000-4000-8000-000000000000"
    is_problem(api.get(f"{SHOPS}/{missing}/readValue/name.json", headers=hotich.headers), 404)


# --- List -----------------------------------------------------------------------------------------------------------

def test_list_pages_with_next_and_previous_uris(api, shops, hotich):
    for i in range(3):
        create(api, hotich, {**SHOP, "tax_code": f"031234567{i}"})
    first = api.get(SHOPS, {"pageSize": 2}, headers=hotich.headers).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["previous"] is None
    assert first["next"].startswith("http://testserver/api/govstack/digital-registries/data/ho-kinh-doanh/1.0?")
    second = api.get(first["next"], headers=hotich.headers).json()
    assert [r["tax_code"] for r in second["results"]] == ["0312345672"]
    assert second["next"] is None and "page=1" in second["previous"]


def test_list_page_size_is_capped_at_100(api, shops, hotich):
    create(api, hotich)
    response = api.get(SHOPS, {"pageSize": 100000}, headers=hotich.headers)
    assert response.status_code == 200 and response.json()["count"] == 1


def test_list_matches_every_query_field_exactly(api, shops, hotich):
    create(api, hotich)
    create(api, hotich, {**SHOP, "tax_code": "0312345679", "owner_pin": "001150012345"})
    found = api.get(SHOPS, {"query.owner_pin": "001150012345"}, headers=hotich.headers).json()
    assert [r["tax_code"] for r in found["results"]] == ["0312345679"]
    both = api.get(SHOPS, {"query.owner_pin": "079090001234", "query.tax_code": "0312345679"},
                   headers=hotich.headers).json()
    assert both["count"] == 0


def test_list_search_looks_in_the_field_named_by_filter(api, shops, hotich):
    create(api, hotich)
    found = api.get(SHOPS, {"search": "0312345678", "filter": "tax_code"}, headers=hotich.headers).json()
    assert found["count"] == 1
    alone = api.get(SHOPS, {"search": "Minh"}, headers=hotich.headers)
    assert is_problem(alone, 422)["field"] == "filter"


def test_list_orders_descending_on_request(api, shops, hotich):
    for i in range(2):
        create(api, hotich, {**SHOP, "tax_code": f"031234567{i}"})
    newest_first = api.get(SHOPS, {"ordering": "descending"}, headers=hotich.headers).json()["results"]
    assert [r["tax_code"] for r in newest_first] == ["0312345671", "0312345670"]
    assert is_problem(api.get(SHOPS, {"ordering": "sideways"}, headers=hotich.headers), 422)


def test_a_query_on_a_field_that_is_not_searchable_is_422(api, shops, hotich):
    listed = api.get(SHOPS, {"query.name": "Tạp hoá"}, headers=hotich.headers)
    body = is_problem(listed, 422)
    assert body["field"] == "query.name" and body["rule"] == "searchable"
    read = api.post(f"{SHOPS}/read", {"query": {"content": {"name": "Tạp hoá"}}}, headers=hotich.headers)
    assert is_problem(read, 422)["field"] == "query.name"


# --- Bad input is a clear 4xx, never a 500 -------------------------------------------------------------------------------

@pytest.mark.parametrize("content, field", [
    ({**SHOP, "tax_code": "12ab"}, "tax_code"),
    ({**SHOP, "employees": -1}, "employees"),
    ({"name": "Không mã số thuế"}, "(record)"),
    ({**SHOP, "colour": "red"}, "(record)"),
    ({**SHOP, "owner_pin": "123"}, "owner_pin"),
])
def test_content_that_breaks_the_registry_schema_is_422_naming_the_field(api, shops, hotich, content, field):
    body = is_problem(api.post(f"{SHOPS}/create", {"write": {"content": content}}, headers=hotich.headers), 422)
    assert body["field"] == field
    assert body["errors"][0]["field"] == field
    assert not RegistryRecord.objects.exists()


# What the web forms refuse, the API refuses too, whatever the registry's schema allows: a 422 naming the field.

MEGABYTE = "a" * 1_000_000


@pytest.mark.parametrize("content, field, rule, message", [
    ({**SHOP, "name": "Tạp hoá\x00Minh Anh"}, "name", "control_characters", "remove the control characters"),
    ({**SHOP, "name": "Tạp hoá\x07"}, "name", "control_characters", "remove the control characters"),
    ({**SHOP, "district": "Quận\x1b[2J 1"}, "district", "control_characters", "remove the control characters"),
    ({**SHOP, "district": "Quận\x85 1"}, "district", "control_characters", "remove the control characters"),
    ({**SHOP, "name": MEGABYTE}, "name", "max_length", "write at most 10,000 characters (this value has 1,000,000)"),
    ({**SHOP, "district": "a" * 10_001}, "district", "max_length", "write at most 10,000 characters"),
    ({**SHOP, "employees": 10**400}, "employees", "range", "a whole number must lie between"),
    ({**SHOP, "employees": 2**63}, "employees", "range", "-9223372036854775808 and 9223372036854775807"),
    ({**SHOP, "na\x00me": "x"}, "(record)", "property_name", "a property name may not hold control characters"),
])
def test_content_no_web_form_accepts_is_422_naming_the_field(api, shops, hotich, content, field, rule, message):
    body = is_problem(api.post(f"{SHOPS}/create", {"write": {"content": content}}, headers=hotich.headers), 422)
    assert (body["field"], body["rule"]) == (field, rule)
    assert body["errors"] == [{"field": field, "message": body["detail"], "type": rule}]
    assert body["detail"].startswith(f"{field}: ") and message in body["detail"]
    assert len(body["detail"]) < 300  # the value is never echoed back
    assert not RegistryRecord.objects.exists()


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_a_number_that_is_not_finite_is_422(api, shops, hotich, number):
    raw = json.dumps({"write": {"content": {**SHOP, "employees": 0}}}).replace('"employees": 0', f'"employees": {number}')
    body = is_problem(api.post(f"{SHOPS}/create", raw, headers=hotich.headers), 422)
    assert (body["field"], body["rule"]) == ("employees", "finite") and "must be finite" in body["detail"]
    assert not RegistryRecord.objects.exists()


def test_tabs_line_breaks_and_the_largest_64_bit_integer_are_accepted(api, shops, hotich):
    created = create(api, hotich, {**SHOP, "name": "Tạp hoá\tMinh Anh\r\nChi nhánh 2", "employees": 2**63 - 1,
                                   "district": "a" * 10_000})
    assert created["employees"] == 2**63 - 1 and "\r\n" in created["name"]


def test_an_update_meets_the_same_limits(api, shops, hotich):
    create(api, hotich)
    body = {"query": {"content": {"tax_code": "0312345678"}}, "write": {"content": {"name": "Minh\x00Anh"}}}
    assert is_problem(api.put(f"{SHOPS}/update", body, headers=hotich.headers), 422)["field"] == "name"
    body["write"]["content"] = {"employees": 10**30}
    assert is_problem(api.post(f"{SHOPS}/updateOrCreate", body, headers=hotich.headers), 422)["field"] == "employees"


def test_a_maxlength_in_the_registry_schema_replaces_the_default_limit(api, agency, hotich):
    from egov.kernel.access import SYSTEM
    from egov.registries import services
    from egov.registries.models import Registry

    schema = {"type": "object", "additionalProperties": False, "properties": {
        "tax_code": {"type": "string"}, "name": {"type": "string"}, "owner_pin": {"type": "string"},
        "district": {"type": "string", "maxLength": 20}, "notes": {"type": "string", "maxLength": 50_000},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}}}}
    services.define_registry(caller=SYSTEM, agency=agency, code="ho-kinh-doanh", version="1.0", name="Hộ kinh doanh",
                             schema=schema, searchable_fields=["tax_code"])
    assert Registry.objects.count() == 1
    create(api, hotich, {"tax_code": "0312345678", "notes": "n" * 50_000, "tags": ["abc"]})
    long_notes = {"write": {"content": {"tax_code": "1", "notes": "n" * 50_001}}}
    body = is_problem(api.post(f"{SHOPS}/create", long_notes, headers=hotich.headers), 422)
    assert body["field"] == "notes" and "write at most 50,000 characters (this value has 50,001)" in body["detail"]
    body = is_problem(api.post(f"{SHOPS}/create", {"write": {"content": {"district": "d" * 21}}},
                               headers=hotich.headers), 422)
    assert body["field"] == "district" and "write at most 20 characters" in body["detail"]
    body = is_problem(api.post(f"{SHOPS}/create", {"write": {"content": {"tags": ["ok", "a\x00"]}}},
                               headers=hotich.headers), 422)
    assert body["field"] == "tags.1" and body["rule"] == "control_characters"
    assert RegistryRecord.objects.count() == 1


@pytest.mark.parametrize("value", [["0312345678"], {"$ne": 1}, None, {}, []])
@pytest.mark.parametrize("operation", ["exists", "read"])
def test_a_query_value_that_is_not_one_value_is_422(api, shops, hotich, operation, value):
    create(api, hotich)
    response = api.post(f"{SHOPS}/{operation}", {"query": {"content": {"tax_code": value}}}, headers=hotich.headers)
    body = is_problem(response, 422)
    assert (body["field"], body["rule"]) == ("query.tax_code", "type")
    assert "give one value to match exactly" in body["detail"]


def test_a_query_value_no_record_could_hold_is_422(api, shops, hotich):
    for value, rule in (("0312345678\x00", "control_characters"), (MEGABYTE, "max_length")):
        response = api.post(f"{SHOPS}/exists", {"query": {"content": {"tax_code": value}}}, headers=hotich.headers)
        assert (is_problem(response, 422)["field"], response.json()["rule"]) == ("query.tax_code", rule)
    found = api.post(f"{SHOPS}/exists", {"query": {"content": {"tax_code": "0312345678"}}}, headers=hotich.headers)
    assert found.status_code == 200 and found.json()["answer"]["status"] is False


@pytest.mark.parametrize("value", [["079090001234"], {"$ne": 1}, None])
def test_a_population_query_value_that_is_not_one_value_is_422(api, population, an, hotich, value):
    response = api.post(f"{POPULATION}/exists", {"query": {"content": {"personal_id_number": value}}},
                        headers=hotich.headers)
    assert is_problem(response, 422)["field"] == "query.personal_id_number"


@pytest.mark.parametrize("body, field", [
    ({"write": {"content": "a string"}}, "body.write.content"),
    ({"write": {}}, "body.write.content"),
    ({}, "body.write"),
    ([1, 2], "body.write"),
])
def test_a_body_of_the_wrong_shape_is_422(api, shops, hotich, body, field):
    problem = is_problem(api.post(f"{SHOPS}/create", body, headers=hotich.headers), 422)
    assert field in [error["field"] for error in problem["errors"]]


@pytest.mark.parametrize("raw", ["{not json", "\xff", ""])
def test_a_body_that_is_not_json_is_422(api, shops, hotich, raw):
    response = api.post(f"{SHOPS}/create", raw.encode("latin-1"), headers=hotich.headers)
    is_problem(response, 422)


@pytest.mark.parametrize("path", [f"{BASE}/no-such-registry/1.0", f"{BASE}/ho-kinh-doanh/9.9"])
def test_an_unknown_registry_or_version_is_404(api, shops, hotich, path):
    assert "No registry" in is_problem(api.get(path, headers=hotich.headers), 404)["detail"]
    is_problem(api.post(f"{path}/read", {"query": {"content": {"tax_code": "0312345678"}}}, headers=hotich.headers),
               404)


# --- The population registry -------------------------------------------------------------------------------------------

def test_a_client_reads_a_person_with_its_declared_purpose_logged(api, population, an, hotich):
    response = api.post(f"{POPULATION}/read", {"query": {"content": {"personal_id_number": "079090001234"}}},
                        headers={**hotich.headers, "X-Purpose": PURPOSE})
    assert response.status_code == 200, response.content
    assert response.json()["content"]["full_name"] == "Nguyễn Văn An"
    event = Event.objects.filter(event_type="person.read").latest("id")
    assert event.payload["purpose"] == PURPOSE and event.payload["via"] == "govstack"


def test_a_population_list_names_the_person_and_logs_the_purpose(api, population, an, hotich):
    listed = api.get(POPULATION, {"query.personal_id_number": "079090001234"},
                     headers={**hotich.headers, "X-Purpose": "Kiểm tra hồ sơ"})
    assert listed.json()["count"] == 1
    assert Event.objects.filter(event_type="person.read").latest("id").payload["purpose"] == "Kiểm tra hồ sơ"
    whole = api.get(POPULATION, headers=hotich.headers)
    assert is_problem(whole, 422)["field"] == "query"


def test_a_client_without_the_population_right_cannot_read_persons(api, population, an, reader):
    response = api.post(f"{POPULATION}/read", {"query": {"content": {"personal_id_number": "079090001234"}}},
                        headers=reader.headers)
    is_problem(response, 403)
    assert not Event.objects.filter(event_type="person.read").exists()


def test_a_citizen_reads_their_own_record_and_no_one_elses(api, client, population, an, binh, citizen_an):
    client.force_login(citizen_an)
    own = api.post(f"{POPULATION}/read", {"query": {"content": {"personal_id_number": "079090001234"}}})
    assert own.status_code == 200 and own.json()["content"]["full_name"] == "Nguyễn Văn An"
    other = api.post(f"{POPULATION}/read", {"query": {"content": {"personal_id_number": "001150012345"}}})
    assert "only your own record" in is_problem(other, 403)["detail"]
    # A number nobody has is refused the same way: the answer never tells which numbers exist.
    nobody = api.post(f"{POPULATION}/read", {"query": {"content": {"personal_id_number": "001150099999"}}})
    assert "only your own record" in is_problem(nobody, 403)["detail"]


def test_a_citizen_cannot_write_registries(api, client, shops, citizen_an):
    client.force_login(citizen_an)
    is_problem(api.post(f"{SHOPS}/create", {"write": {"content": SHOP}}), 403)


def test_a_session_needs_the_csrf_token_for_unsafe_methods(shops, citizen_an):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen_an)
    response = browser.post(f"{SHOPS}/create", json.dumps({"write": {"content": SHOP}}),
                            content_type="application/json")
    assert "CSRF" in is_problem(response, 403)["detail"]


def test_an_officer_must_have_passed_totp(api, client, shops, agency):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    officer = User.objects.create(username="chuyenvien", role=Role.SPECIALIST, agency=agency)
    client.force_login(officer)
    assert "second sign-in step" in is_problem(api.get(SHOPS), 401)["detail"]
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert api.get(SHOPS).status_code == 200  # an officer of the owning agency


# --- MyPersonalDataUsage ----------------------------------------------------------------------------------------------

USAGE = f"{BASE}/myPersonalDataUsage"


def test_a_citizen_sees_who_read_their_data(api, client, shops, population, an, hotich, citizen_an):
    create(api, hotich)  # a shop owned by An
    api.post(f"{POPULATION}/read", {"query": {"content": {"personal_id_number": "079090001234"}}},
             headers={**hotich.headers, "X-Purpose": PURPOSE})
    api.get(SHOPS, {"query.owner_pin": "079090001234"}, headers={**hotich.headers, "X-Purpose": "Thanh tra"})
    client.force_login(citizen_an)
    usage = api.get(USAGE, {"userId": "079090001234", "databaseId": "population"})
    assert usage.status_code == 200, usage.content
    [entry] = usage.json()
    assert entry["readerInstitutionId"] == "000.00.12.H29"
    assert entry["readerInstitutionName"] == "Sở Tư pháp TP Hồ Chí Minh"
    assert entry["readerApplicationName"] == "VN:GOV:000.00.12.H29:hotich"
    assert entry["purpose"] == PURPOSE and entry["action"] == "person.read" and entry["searchDateTime"]
    shops_usage = api.get(USAGE, {"userId": "079090001234", "databaseId": "ho-kinh-doanh"}).json()
    assert [(e["action"], e["purpose"]) for e in shops_usage] == [("registry.record_read", "Thanh tra")]


def test_only_the_person_sees_their_data_usage(api, client, population, an, binh, hotich, citizen_an):
    params = {"userId": "001150012345", "databaseId": "population"}
    is_problem(api.get(USAGE, params, headers=hotich.headers), 403)
    client.force_login(citizen_an)
    is_problem(api.get(USAGE, params), 403)


def test_data_usage_needs_a_12_digit_number_and_a_known_registry(api, client, population, citizen_an):
    from tests.api.contract import assert_documented, openapi

    client.force_login(citizen_an)
    document = openapi(client)
    answers = [api.get(USAGE, {"userId": "EE378129277266", "databaseId": "population"}),
               api.get(USAGE, {"userId": "079090001234", "databaseId": "no-such"}),
               api.get(USAGE, {"userId": "079090001234"}), api.get(USAGE, {"userId": "0" * 41, "databaseId": "x"})]
    assert [answer.status_code for answer in answers] == [400, 404, 422, 422]
    assert is_problem(answers[0], 400)["field"] == "userId"
    for answer in answers:
        assert_documented(document, "get", USAGE, answer)


# --- OpenAPI ----------------------------------------------------------------------------------------------------------

def test_every_operation_is_in_the_openapi_document(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    data = "/api/govstack/digital-registries/data/{registryName}/{versionNumber}"
    expected = {
        (data, "get"), (f"{data}/create", "post"), (f"{data}/exists", "post"), (f"{data}/read", "post"),
        (f"{data}/update", "put"), (f"{data}/updateEntries", "put"), (f"{data}/updateOrCreate", "post"),
        (f"{data}/update-entries", "put"), (f"{data}/update-or-create", "post"), (f"{data}/{{ID}}/delete", "delete"),
        (f"{data}/{{uuid}}/readValue/{{field}}.{{ext}}", "get"), (f"{data}/{{uuid}}/read-value/{{field}}.{{ext}}", "get"),
        ("/api/govstack/digital-registries/data/myPersonalDataUsage", "get"),
    }
    for path, method in expected:
        operation = paths[path][method]
        assert "Information-Mediator-Client" in [p["name"] for p in operation["parameters"]], path
        assert operation["security"]
    assert paths[f"{data}/update-or-create"]["post"]["deprecated"] is True
    operation_ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))


# --- Over real HTTP ---------------------------------------------------------------------------------------------------

@pytest.fixture
def live_registry(transactional_db, settings):
    from egov.exchange.services import register_client
    from egov.kernel.access import SYSTEM
    from egov.registries import services
    from egov.registries.models import Agency
    from tests.govstack.conftest import SHOP_SCHEMA

    agency = Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP Hồ Chí Minh")
    services.define_registry(caller=SYSTEM, agency=agency, code="ho-kinh-doanh", version="1.0", name="Hộ kinh doanh",
                             schema=SHOP_SCHEMA, searchable_fields=["tax_code"])
    _client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch",
                                   agency=agency, grants={"registry.ho-kinh-doanh.read": [],
                                                          "registry.ho-kinh-doanh.write": []})
    return key


def _http(url: str, key: str | None, body=None, method: str = "POST") -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as answer:
        return answer.code, json.loads(answer.read() or b"null")


def test_a_client_system_creates_and_reads_records_over_http(live_server, live_registry):
    shops = f"{live_server.url}{SHOPS}"
    status, created = _http(f"{shops}/create", live_registry, {"write": {"content": SHOP}})
    assert status == 200, created
    status, read = _http(f"{shops}/read", live_registry, {"query": {"content": {"tax_code": "0312345678"}}})
    assert status == 200 and read["content"]["uuid"] == created["content"]["uuid"]
    status, problem = _http(f"{shops}/read", None, {"query": {"content": {"tax_code": "0312345678"}}})
    assert status == 401 and problem["title"] == "Authentication required"
    status, listed = _http(f"{shops}?pageSize=1", live_registry, method="GET")
    assert status == 200 and listed["count"] == 1 and listed["next"] is None
