"""The API's error format across components (``egov.api``): a body that cannot be parsed, however it fails (not JSON,
not UTF-8, nested deeper than the parser goes), is a 422 "not valid JSON" with errors[] (405, its spec's status for
invalid input, on the Messaging API), never a bare 400 or a 500;
field locations in validation errors are where the field is in the request (``body.full_name``), without the
handler's parameter name; a body larger than the platform reads is a 413 problem that says the limit (it was a bare
400 that no operation documents), and every operation with a body documents it."""
import pytest

from egov.exchange.services import register_client
from egov.kernel.access import SYSTEM
from tests.api.contract import assert_documented, openapi
from tests.govstack.conftest import SHOP_SCHEMA, agency  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

NOT_JSON = [{"field": "body", "message": "The request body is not valid JSON.", "type": "json_invalid"}]
DEEP = '{"x":' + "[" * 100_000 + "]" * 100_000 + "}"
SHOPS = "/api/govstack/digital-registries/data/ho-kinh-doanh/1.0"
JSON_APIS = [
    "/api/govstack/registration/services/9677a13d-7c11-5af6-8339-691b89718939/applications",
    f"{SHOPS}/create",
    f"{SHOPS}/exists",
    "/api/v1/population/verify",
    "/api/govstack/messaging/send/email/single",
]


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def headers(agency):  # noqa: F811
    """A client system with the right to call every one of JSON_APIS (the messaging API reads its key as apiKey)."""
    from egov.registries import services

    services.define_registry(caller=SYSTEM, agency=agency, code="ho-kinh-doanh", version="1.0", name="Hộ kinh doanh",
                             schema=SHOP_SCHEMA, searchable_fields=["tax_code"])
    _client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:tat-ca", name="Tất cả",
                                   agency=agency, grants={
                                       "registration.submit": [], "registry.ho-kinh-doanh.read": [],
                                       "registry.ho-kinh-doanh.write": [], "population.verify": [],
                                       "messaging.send": []})
    return {"Authorization": f"Bearer {key}", "apiKey": key}


def post(client, path, body, headers):
    return client.post(path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("path", JSON_APIS)
@pytest.mark.parametrize("body", [DEEP.encode(), b"{not json", b"\xff"], ids=["nested-too-deep", "not-json", "not-utf8"])
def test_a_body_that_cannot_be_parsed_is_invalid_input_not_valid_json(client, headers, path, body):
    response = post(client, path, body, headers)
    assert response.status_code == (405 if "/messaging/" in path else 422), response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert (problem["title"], problem["detail"], problem["errors"]) == (
        "Invalid input", "The request body is not valid JSON.", NOT_JSON)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/population/verify", {"personal_id_number": "079090001234", "full_name": None,
                                   "date_of_birth": "1990-05-17"}, "body.full_name"),
    ("/api/v1/population/verify", {"personal_id_number": "079090001234", "full_name": "An",
                                   "date_of_birth": "17/05/1990"}, "body.date_of_birth"),
    (f"{SHOPS}/create", {}, "body.write"),
    (f"{SHOPS}/create", {"write": {"content": "a string"}}, "body.write.content"),
    (JSON_APIS[0], {"applicantId": None}, "body.applicantId"),
    (JSON_APIS[0], [], "body.applicantId"),
], ids=["null-name", "bad-date", "no-write", "content-not-an-object", "null-applicant", "a-list"])
def test_a_field_is_located_where_it_is_in_the_request(client, headers, path, body, field):
    response = post(client, path, body, headers)
    assert response.status_code == 422, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not any(error["field"].startswith("body.body") for error in response.json()["errors"])


@pytest.mark.parametrize("path", JSON_APIS)
def test_a_body_larger_than_the_platform_reads_is_413_saying_the_limit(client, headers, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, path, {"padding": "x" * 1000}, headers)
    assert response.status_code == 413
    template = path.replace("9677a13d-7c11-5af6-8339-691b89718939", "{serviceId}").replace(
        "ho-kinh-doanh/1.0", "{registryName}/{versionNumber}")
    problem = assert_documented(openapi(client), "post", template, response)
    assert (problem["title"], problem["detail"]) == (
        "Content too large", "The request body is larger than 1000 bytes, the most this API reads.")


def test_every_operation_with_a_body_documents_413(client):
    operations = [(path, method, operation) for path, methods in openapi(client)["paths"].items()
                  for method, operation in methods.items() if "requestBody" in operation]
    assert len(operations) > 15
    assert [(path, method) for path, method, operation in operations if "413" not in operation["responses"]] == []
