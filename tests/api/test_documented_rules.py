"""The OpenAPI document states the input rules the handlers enforce (found by a property-based run of schemathesis
against a live server), and the server keeps to them:

* a date is ISO 8601 text, as ``format: date`` / ``date-time`` says: a number, or text of digits, is not read as
  Unix time (``"date_of_birth": 0`` was answered as 1970-01-01);
* what a pattern or enum of the document admits, the server accepts; what it excludes, the server refuses with the
  problem it always gave (its status, field and message stay the services').
"""
import re

import pytest

from egov.exchange.services import register_client
from egov.kernel.access import SYSTEM
from tests.api.contract import assert_documented, openapi
from tests.govstack.conftest import ClientSystem, agency  # noqa: F401  (fixture)
from tests.registries.test_population_api import AN, VERIFY, an, bank, post  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

REGISTRATION = "/api/govstack/registration"
APPLICATIONS = "/api/govstack/registration/applications"
TASKS = "/api/govstack/registration/tasks"
STATISTICS = "/api/govstack/registration/data/statistics"
SUBMIT = "/api/govstack/registration/services/{serviceId}/applications"
RESULT = "/api/v1/results/{code}"
READ_VALUE = "/api/govstack/digital-registries/data/{registryName}/{versionNumber}/{uuid}/readValue/{field}.{ext}"
USAGE = "/api/govstack/digital-registries/data/myPersonalDataUsage"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def document(client):
    return openapi(client)


@pytest.fixture
def portal(agency):  # noqa: F811
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:mot-cua", name="Một cửa",
                                  agency=agency, grants={"registration.read": [], "registration.submit": [],
                                                         "registration.tasks": []})
    return ClientSystem(client, key)


def parameter(document: dict, path: str, name: str, method: str = "get") -> dict:
    [found] = [p for p in document["paths"][path][method]["parameters"] if p["name"] == name]
    return found["schema"]


def admits(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None


def fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# --- Dates are ISO 8601 text -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("date_of_birth", [0, 642902400, "0", "642902400", "1990-05-17T00:00"])
def test_a_date_of_birth_that_is_not_an_iso_date_is_invalid_input(client, document, an, bank, date_of_birth):  # noqa: F811
    response = post(client, VERIFY, {**AN, "date_of_birth": date_of_birth}, bank)
    assert response.status_code == 422
    assert_documented(document, "post", VERIFY, response)
    assert fields(response) == ["body.date_of_birth"]


def test_an_iso_date_of_birth_is_still_a_date(client, an, bank):  # noqa: F811
    response = post(client, VERIFY, AN, bank)
    assert response.status_code == 200 and response.json()["match"] is True


@pytest.mark.parametrize("start", ["0", "1700000000"])
def test_a_statistics_date_that_is_a_number_is_invalid_input(client, document, portal, start):
    response = client.get(STATISTICS, {"startDate": start}, headers=portal.headers)
    assert response.status_code == 422
    assert_documented(document, "get", STATISTICS, response)
    assert fields(response) == ["query.startDate"]


@pytest.mark.parametrize("created", [0, "1700000000", "2026-01-05"])
def test_an_application_created_at_a_number_is_invalid_input(client, document, portal, created):
    path = SUBMIT.replace("{serviceId}", "9677a13d-7c11-5af6-8339-691b89718939")
    response = client.post(path, {"applicantId": "036072004321", "created": created},
                           content_type="application/json", headers=portal.headers)
    assert response.status_code == 422
    assert_documented(document, "post", SUBMIT, response)
    assert fields(response) == ["body.created"]


# --- Patterns and enums are what the server accepts ----------------------------------------------------------------

@pytest.mark.parametrize("path", [APPLICATIONS, TASKS])
def test_the_documented_sort_keys_and_orders_are_the_ones_served(client, document, portal, path):
    sorts = parameter(document, path, "sortBy")["enum"]
    order = parameter(document, path, "sortOrder")["pattern"]
    for sort_by in sorts:
        for sort_order in ("asc", "DESC"):
            assert admits(order, sort_order)
            params = {"sortBy": sort_by, "sortOrder": sort_order} if sort_by else {}
            assert client.get(path, params, headers=portal.headers).status_code == 200, (sort_by, sort_order)
    assert "title" not in sorts
    refused = client.get(path, {"sortBy": "title"}, headers=portal.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "query.sortBy"
    assert not admits(order, "up")
    refused = client.get(path, {"sortBy": "id", "sortOrder": "up"}, headers=portal.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "query.sortOrder"


@pytest.mark.parametrize("path", [APPLICATIONS, TASKS])
def test_the_documented_paging_bounds_are_the_ones_served(client, document, portal, path):
    first, size = parameter(document, path, "firstResult"), parameter(document, path, "maxResult")
    assert (first["minimum"], first["maximum"], size["minimum"]) == (0, 10_000, 1)
    assert client.get(path, {"firstResult": 10_000, "maxResult": 1}, headers=portal.headers).status_code == 200
    assert fields(client.get(path, {"firstResult": 10_001}, headers=portal.headers)) == ["query.firstResult"]
    assert fields(client.get(path, {"maxResult": 0}, headers=portal.headers)) == ["query.maxResult"]


def test_the_applicant_id_is_documented_as_a_personal_id_number_or_a_uuid(client, document, portal):
    pattern = parameter(document, APPLICATIONS, "applicantId")["pattern"]
    assert admits(pattern, "036072004321") and admits(pattern, "5f0c3a2e-8d1b-4c6a-9e7f-0a1b2c3d4e5f")
    assert not admits(pattern, "hung")
    refused = client.get(APPLICATIONS, {"applicantId": "hung"}, headers=portal.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "query.applicantId"
    assert admits(pattern, "")  # an empty filter is no filter
    assert client.get(APPLICATIONS, {"applicantId": ""}, headers=portal.headers).status_code == 200
    body = document["components"]["schemas"]["ApplicationSubmit"]["properties"]["applicantId"]["pattern"]
    assert admits(body, "036072004321") and not admits(body, "")


@pytest.mark.parametrize(("code", "read"), [("7K3M-Q9XA-2BCD-EF01", True), ("7k3m q9xa 2bcd ef01", True),
                                            ("OIL0-OIL0-OIL0-OIL0", True), ("0", False),
                                            ("UUUU-UUUU-UUUU-UUUU", False), ("7K3M-Q9XA-2BCD-EF0", False)])
def test_a_result_code_the_pattern_admits_is_looked_up_and_one_it_excludes_is_invalid(client, document, code, read):
    assert admits(parameter(document, RESULT, "code")["pattern"], code) is read
    response = client.get(f"/api/v1/results/{code}")
    assert response.status_code == (404 if read else 422)
    assert_documented(document, "get", RESULT, response)


@pytest.mark.parametrize(("number", "valid"), [("079090001234", True), ("001203000001", True),
                                               ("999090001234", False), ("07909000123", False)])
def test_the_personal_id_number_pattern_is_the_registrys_rule(client, document, an, bank, number, valid):  # noqa: F811
    pattern = document["components"]["schemas"]["VerifyIn"]["properties"]["personal_id_number"]["pattern"]
    assert admits(pattern, number) is valid
    response = post(client, VERIFY, {**AN, "personal_id_number": number}, bank)
    assert response.status_code == (200 if valid else 422)
    assert_documented(document, "post", VERIFY, response)


def test_the_documented_formats_of_the_digital_registries_keep_their_400(client, document, bank):  # noqa: F811
    """userId is 12 digits and a value is read as .json only: the document says so; a breach is still the 400
    problem naming the field."""
    user_id = parameter(document, USAGE, "userId")["pattern"]
    assert admits(user_id, "079090001234") and not admits(user_id, "12345")
    response = client.get(USAGE, {"userId": "12345", "databaseId": "population"}, headers=bank)
    assert response.status_code == 400 and response.json()["field"] == "userId"
    ext = parameter(document, READ_VALUE, "ext")["pattern"]
    assert admits(ext, "json") and admits(ext, "JSON") and not admits(ext, "xml")


def test_messaging_documents_the_request_uid_and_the_report_outcomes(document):
    status = document["paths"]["/api/govstack/messaging/status/email"]["get"]
    [request_uid] = [p for p in status["parameters"] if p["name"] == "requestUid"]
    assert request_uid["schema"]["format"] == "uuid"
    meta = document["components"]["schemas"]["CallbackContent"]["properties"]["meta"]
    assert meta["enum"] == ["delivered", "bounced"]


def test_an_upload_is_documented_as_exactly_one_file(document):
    upload = document["paths"][f"{REGISTRATION}/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert (upload["schema"]["properties"]["file"]["minItems"], upload["schema"]["properties"]["file"]["maxItems"]) \
        == (1, 1)
