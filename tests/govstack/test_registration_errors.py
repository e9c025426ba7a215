"""GovStack Registration API: input at the edges is a 422 naming the field, never a 500 nor silently another value:
statistics dates beyond what the platform counts, page sizes of 0, negative, huge or not a number, bodies of the
wrong shape (field locations as the client wrote them) and JSON nested too deep to parse; a document id that is no
number is an unknown document (404); an upload that is not readable multipart is a 400. Each answer is one the
OpenAPI document lists, in the shape it documents."""
import pytest

from tests.api.contract import assert_documented, openapi
from tests.govstack.test_registration import (BASE, SERVICE, hung, is_problem, portal, submit,  # noqa: F401  (fixtures)
                                              upload, version)
from tests.kernel.conftest import calendar_2026  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

STATISTICS = f"{BASE}/data/statistics"


# --- Statistics dates --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("params", "fields"), [
    ({"startDate": "9999-12-31", "endDate": "9999-12-31"}, ["query.startDate", "query.endDate"]),
    ({"startDate": "9999-12-31", "endDate": "9999-12-31", "timeframe": "year"}, ["query.startDate", "query.endDate"]),
    ({"endDate": "0001-01-01"}, ["query.endDate"]),
    ({"startDate": "0001-01-01", "endDate": "0001-01-02", "timeframe": "week"}, ["query.startDate", "query.endDate"]),
    ({"startDate": "1999-12-31", "endDate": "2026-01-31"}, ["query.startDate"]),
    ({"startDate": "2026-01-01", "endDate": "2100-01-01", "timeframe": "month"}, ["query.endDate"]),
], ids=["year-9999", "year-9999-by-year", "year-1-end", "year-1-by-week", "before-2000", "after-2099"])
def test_statistics_dates_out_of_range_are_422_naming_the_field(api, portal, params, fields):  # noqa: F811
    body = is_problem(api.get(STATISTICS, params, headers=portal.headers), 422)
    assert [error["field"] for error in body["errors"]] == fields
    assert body["field"] == fields[0]
    assert body["detail"] == f"{fields[0].removeprefix('query.')} is from 2000-01-01 to 2099-12-31."


def test_statistics_take_the_first_and_last_dates_of_the_range(api, portal):  # noqa: F811
    response = api.get(STATISTICS, {"startDate": "2000-01-01", "endDate": "2099-12-31", "timeframe": "year"},
                       headers=portal.headers)
    assert response.status_code == 200, response.content
    periods = response.json()
    assert len(periods) == 100
    assert periods[0]["references"]["startDate"] == "2000-01-01"
    assert periods[-1]["references"]["endDate"] == "2099-12-31"


def test_a_statistics_date_that_is_no_date_is_422(api, portal):  # noqa: F811
    body = is_problem(api.get(STATISTICS, {"startDate": "2026-02-30"}, headers=portal.headers), 422)
    assert body["errors"][0]["field"] == "query.startDate"


# --- Page sizes --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/tasks", "/applications"])
@pytest.mark.parametrize("size", [0, -1, -(10**30)])
def test_a_page_size_below_one_is_422(api, portal, path, size):  # noqa: F811
    body = is_problem(api.get(f"{BASE}{path}", {"maxResult": size}, headers=portal.headers), 422)
    assert body["errors"] == [{"field": "query.maxResult", "message": "maxResult is at least 1."}]


@pytest.mark.parametrize("path", ["/tasks", "/applications"])
@pytest.mark.parametrize("size", ["1.5", "many", ""])
def test_a_page_size_that_is_not_a_whole_number_is_422(api, portal, path, size):  # noqa: F811
    body = is_problem(api.get(f"{BASE}{path}", {"maxResult": size}, headers=portal.headers), 422)
    assert body["errors"][0]["field"] == "query.maxResult"


@pytest.mark.parametrize("path", ["/tasks", "/applications"])
def test_a_huge_page_size_is_capped_and_a_huge_offset_refused(api, portal, path):  # noqa: F811
    assert api.get(f"{BASE}{path}", {"maxResult": 10**30}, headers=portal.headers).status_code == 200
    body = is_problem(api.get(f"{BASE}{path}", {"firstResult": 10**30}, headers=portal.headers), 422)
    assert body["errors"][0]["field"] == "query.firstResult"
    assert api.get(f"{BASE}{path}", {"firstResult": 0, "maxResult": 1}, headers=portal.headers).status_code == 200


# --- Bodies ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({"applicantId": None}, "body.applicantId"),
    ({"formData": {}}, "body.applicantId"),
    ({"applicantId": "036072004321", "formData": {"data": []}}, "body.formData.data"),
    ([], "body.applicantId"),  # ninja reads a schema from any object: a list is one without the fields
], ids=["null-applicant", "no-applicant", "data-not-an-object", "a-list"])
def test_a_body_of_the_wrong_shape_names_the_field_as_sent(api, portal, version, body, field):  # noqa: F811
    response = api.post(f"{BASE}/services/{SERVICE}/applications", body, headers=portal.headers)
    assert is_problem(response, 422)["errors"][0]["field"] == field


def test_json_nested_too_deep_is_422_not_valid_json(api, portal, version):  # noqa: F811
    deep = '{"x":' + "[" * 100_000 + "]" * 100_000 + "}"
    response = api.post(f"{BASE}/services/{SERVICE}/applications", deep, headers=portal.headers)
    body = is_problem(response, 422)
    assert body["detail"] == "The request body is not valid JSON."
    assert body["errors"] == [{"field": "body", "message": "The request body is not valid JSON.", "type": "json_invalid"}]


# --- What the OpenAPI document says ---------------------------------------------------------------------------------

def test_the_statistics_answer_the_schema_the_document_gives_them(api, client, portal):  # noqa: F811
    """Its own schema, not the public statistics' (both were once named StatisticsOut: one took the other's place)."""
    response = api.get(STATISTICS, {"timeframe": "day"}, headers=portal.headers)
    assert response.status_code == 200, response.content
    periods = assert_documented(openapi(client), "get", f"{BASE}/data/statistics", response)
    assert periods and set(periods[0]) == {"processed", "approved", "sentBack", "rejected", "references"}


@pytest.mark.parametrize("document_id", ["abc", "1.5", "-1", "9" * 30, " 1"])
def test_a_document_id_that_is_no_number_is_an_unknown_document(api, client, version, hung, portal,  # noqa: F811
                                                                document_id):
    url = upload(client, portal).json()["url"]
    file_id = submit(api, portal, [url]).json()["fileId"]
    [document_url] = api.get(f"{BASE}/applications/{file_id}", headers=portal.headers).json()["applicationData"][
        "documentUrls"]
    known = document_url.split("/documents/")[1]
    assert client.get(f"{BASE}/applications/{file_id}/documents/{known}", headers=portal.headers).status_code == 200
    template = f"{BASE}/applications/{{fileId}}/documents/{{documentId}}"
    for unknown in (document_id, str(int(known) + 1000)):
        response = client.get(f"{BASE}/applications/{file_id}/documents/{unknown}", headers=portal.headers)
        assert is_problem(response, 404)["detail"] == "No such document in this application."
        assert_documented(openapi(client), "get", template, response)


def test_an_update_with_a_body_of_the_wrong_shape_is_a_documented_422(api, client, version, hung, portal):  # noqa: F811
    file_id = submit(api, portal, [upload(client, portal).json()["url"]]).json()["fileId"]
    response = api.put(f"{BASE}/applications/{file_id}", {"applicantId": None}, headers=portal.headers)
    assert is_problem(response, 422)["errors"][0]["field"] == "body.applicantId"
    assert_documented(openapi(client), "put", f"{BASE}/applications/{{fileId}}", response)


def test_an_upload_without_a_multipart_boundary_is_a_documented_400_logged_in_one_line(client, portal,  # noqa: F811
                                                                                       caplog):
    with caplog.at_level("WARNING", logger="django.request"):
        response = client.post(f"{BASE}/documents", b"--x\r\n", content_type="multipart/form-data",
                               headers=portal.headers)
    body = is_problem(response, 400)
    assert_documented(openapi(client), "post", f"{BASE}/documents", response)
    assert body["title"] == "Bad request" and "multipart/form-data" in body["detail"]
    assert body["errors"][0]["field"] == "body"
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None and "Invalid boundary in multipart" in record.getMessage()
