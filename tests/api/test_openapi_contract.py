"""The OpenAPI document describes what the server sends. Two schemas of one name would collapse into one entry of
``components`` (the last one wins, and another operation then documents a schema that is not its own): every
schema an operation uses has a name of its own, and no operation lists a status twice. The administrative units
answer the errors they document as problems (title, translated detail, the field); a body that is not readable
multipart/form-data is a 400 problem logged in one line, without a traceback."""
from collections import defaultdict
from typing import get_args

import pytest
from django.test import Client
from pydantic import BaseModel

from tests.api.contract import assert_documented, openapi

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/administrative-units"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def _operations():
    from egov.api import api

    for bound in api._get_bound_routers():  # ninja's routers as mounted (each operation once)
        for path_view in bound.path_operations.values():
            yield from path_view.operations


def _models_in(annotation):
    """The pydantic models an annotation names, however nested (list[X], X | None, dict[str, X], Annotated[X, …])."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for argument in get_args(annotation):
        yield from _models_in(argument)


def test_no_two_schemas_of_the_api_share_a_name():
    from ninja.params.models import ParamModel

    todo = []
    for operation in _operations():
        todo.extend(operation.models)
        todo.extend(model for model in operation.response_models.values() if isinstance(model, type))
    by_name, seen = defaultdict(set), set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        # ninja's wrappers of an operation's parameters and response are not in the document's components
        if not (issubclass(model, ParamModel) or model.__name__ == "NinjaResponseSchema"):
            by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
        for field in model.model_fields.values():
            todo.extend(_models_in(field.annotation))
    assert len(by_name) > 40  # the walk reached the schemas
    assert {name: sorted(models) for name, models in by_name.items() if len(models) > 1} == {}


def test_every_operation_documents_each_status_once_with_a_description():
    """ninja keys its own responses by number, ``openapi_extra`` by text: both for one status would be two keys
    of one name in the JSON document. OpenAPI requires each response's description."""
    from egov.api import api

    schema = api.get_openapi_schema(path_prefix="")
    operations = [(f"{method.upper()} {path}", operation) for path, methods in schema["paths"].items()
                  for method, operation in methods.items()]
    twice = [(name, status) for name, operation in operations for status in {str(key) for key in operation["responses"]}
             if sum(str(key) == status for key in operation["responses"]) > 1]
    assert twice == []
    undescribed = [(name, status) for name, operation in operations for status, response in operation["responses"].items()
                   if not response.get("description")]
    assert undescribed == []


def test_the_administrative_units_document_their_errors_as_problems(client):
    document = openapi(client)
    too_long = client.get(UNITS, {"q": "a" * 101})
    assert too_long.status_code == 422
    assert assert_documented(document, "get", UNITS, too_long)["errors"][0]["field"] == "query.q"
    paged_search = client.get(UNITS, {"q": "da nang", "after": "48"})
    assert paged_search.status_code == 400
    body = assert_documented(document, "get", UNITS, paged_search)
    assert body["title"] == "Bad request" and body["field"] == "query.after"
    assert body["detail"] == ("“after” pages the list in code order; a search (q) returns one page of the best "
                              "matches: leave out “after”.")
    assert body["errors"] == [{"field": "query.after", "message": body["detail"], "type": "search_not_paged"}]


def test_the_administrative_units_error_is_in_the_requests_language(client, settings):
    from django.utils import translation

    settings.LANGUAGE_CODE = "vi"
    with translation.override("vi"):
        expected = translation.gettext("“after” pages the list in code order; a search (q) returns one page of the "
                                       "best matches: leave out “after”.")
    body = client.get(UNITS, {"q": "da nang", "after": "48"}, headers={"Accept-Language": "vi"}).json()
    assert body["detail"] == expected and body["title"] == "Bad request"


def test_a_page_that_cannot_read_a_multipart_body_logs_one_line(caplog):
    """A page (not the API): Django's CSRF check reads the form, the body without boundary cannot be parsed; the
    400 is logged on django.request in one line with the reason, not with a traceback."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32
    with caplog.at_level("WARNING", logger="django.request"):
        response = client.post("/", b"--x\r\n", content_type="multipart/form-data")
    assert response.status_code == 400
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None and "Invalid boundary in multipart" in record.getMessage()
