"""GovStack Digital Registries BB, Data API 1.3.0 (specs/govstack/digital-registries/…Data_API_template-1.3.0.yaml),
mounted at ``/api/govstack/digital-registries/``.

Every registry an agency defines (``egov.registries.models.Registry``), and the national population registry as the
protected registry ``population``, is served at ``/data/{registryName}/{versionNumber}/…``. Records are sealed and
their searchable fields blind-indexed, so queries match exactly (``query.<field>=value``; ``search`` within the field
named by ``filter``), never by pattern. What the spec leaves open follows egov's conventions: problem+json errors,
401 without credentials, 403 without the right, a page size capped at 100.

Kebab-case spellings still used by older clients (``update-or-create``, ``update-entries``, ``read-value``) reach
the same handlers; they are marked deprecated in the schema.
"""
import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema
from ninja.responses import NinjaJSONEncoder

from egov.exchange.api_auth import MEDIATOR_PARAMETER, api_caller, problem_responses
from egov.kernel.api_fields import PERSONAL_ID_PATTERN, documented
from egov.registries import services

router = Router(auth=api_caller, tags=["GovStack Digital Registries"])

DATA = "/data/{registryName}/{versionNumber}"
MAX_PAGE_SIZE = services.MAX_PAGE_SIZE
QUERY_PREFIX = "query."

QUERY_FIELD_PARAMETER = {
    "in": "query",
    "name": "query.<fieldName>",
    "required": False,
    "description": "An exact match on a searchable field of the registry, one parameter per field "
                   "(e.g. query.tax_code=0312345678). Several are combined with AND.",
    "schema": {"type": "string"},
}
# Only JSON values are served (…/readValue/full_name.json), the extension in any case.
VALUE_EXTENSION = documented(pattern="^[jJ][sS][oO][nN]$")
PURPOSE_PARAMETER_TEXT = ("Why you read (population registry): logged with the read and shown to the person. "
                          "UTF-8 or percent-encoded.")


def _extra(*statuses: int, parameters: tuple = ()) -> dict:
    return {"parameters": [MEDIATOR_PARAMETER, *parameters], "responses": problem_responses(*statuses)}


# --- Body and response shapes (the spec's) -----------------------------------------------------------------------

RECORD_EXAMPLE = {"tax_code": "0312345678", "name": "Hộ kinh doanh Minh Anh", "owner_pin": "079090001234"}


class Content(Schema):
    content: dict[str, Any] = Field(..., description="A record: field names and values as the registry's schema "
                                                     "defines them.", examples=[RECORD_EXAMPLE])


class WriteBody(Schema):
    write: Content


class QueryBody(Schema):
    query: Content


class QueryWriteBody(Schema):
    query: Content | None = Field(None, description="Which records: exact values of searchable fields (or uuid).")
    write: Content = Field(..., description="The fields to set.")


class ContentOut(Schema):
    content: dict[str, Any] = Field(..., description="The record, with its reference in `uuid`.")


class Answer(Schema):
    status: bool
    message: str


class AnswerOut(Schema):
    answer: Answer


class UpdateOut(Schema):
    answer: Answer
    count: int = Field(..., description="How many records were updated.")


class ListOut(Schema):
    count: int = Field(..., description="Number of results (all pages).")
    next: str | None = Field(None, description="URI of the next page; null on the last page.")
    previous: str | None = Field(None, description="URI of the previous page; null on the first page.")
    results: list[dict[str, Any]]


class ValueOut(Schema):
    value: Any = None


class PersonalDataUsage(Schema):
    id: str = Field(..., description="Log record (ledger event) id; pass as `before` for older entries.")
    readerId: str | None = Field(None, description="The reading client system's identifier, when a system read.")
    readerInstitutionId: str | None = Field(None, description="The reader's agency: its organisation code.")
    readerInstitutionName: str | None = None
    readerApplicationName: str | None = Field(None, description="The reading client system (VN:GOV:…).")
    readerKind: str = Field(..., description="officer, client, citizen or system.")
    readerRole: str | None = Field(None, description="The officer's role, when an officer read.")
    searchDateTime: datetime
    action: str = Field(..., description="What was done: person.read, person.verified, person.released, "
                                         "registry.record_read.")
    purpose: str | None = Field(None, description="The purpose the reader declared.")
    match: bool | None = Field(None, description="For a verification: whether the details matched.")


# --- Helpers: parsing only ---------------------------------------------------------------------------------------

def _header_text(value: str | None) -> str:
    """A header as the client meant it: WSGI hands over Latin-1, so UTF-8 bytes are decoded again; a
    percent-encoded value is unquoted."""
    from urllib.parse import unquote

    if not value:
        return ""
    try:
        value = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return unquote(value) if "%" in value else value


def _query_params(request, search: str | None, filter_: str | None) -> dict:
    query = {key[len(QUERY_PREFIX):]: value for key, value in request.GET.items() if key.startswith(QUERY_PREFIX)}
    if "" in query:
        raise services.InvalidInput(_("Name the field after query. (e.g. query.tax_code=…)."), field="query",
                                    rule="searchable")
    if search is not None or filter_ is not None:
        if not (search or "").strip() or not (filter_ or "").strip():
            raise services.InvalidInput(_("Records are encrypted and match exactly: give both search (the value) and "
                                          "filter (the searchable field it is in)."),
                                        field="search" if not (search or "").strip() else "filter", rule="required")
        query[filter_.strip()] = search
    return query


def _page_uri(request, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def _json(data: dict) -> HttpResponse:
    """A 200 answer rendered as Django Ninja renders one, but not validated again against the operation's response
    schema (which stays in the OpenAPI document): for the hot reads, whose handlers build exactly that shape."""
    return HttpResponse(json.dumps(data, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8")


USAGE_LIMIT = 100


def _usage_out(entry) -> dict:
    return {"id": str(entry.id), "readerId": entry.reader_system or None,
            "readerInstitutionId": entry.reader_agency_code or None,
            "readerInstitutionName": entry.reader_agency_name or None,
            "readerApplicationName": entry.reader_system or None, "readerKind": entry.reader_kind,
            "readerRole": entry.reader_role or None, "searchDateTime": entry.at, "action": entry.event_type,
            "purpose": entry.purpose or None, "match": entry.match}


# --- The Data API --------------------------------------------------------------------------------------------------

@router.get("/data/myPersonalDataUsage", response=list[PersonalDataUsage], exclude_none=True,
            operation_id="myPersonalDataUsage", tags=["MyPersonalDataUsage API"], summary="Who used my personal data",
            openapi_extra=_extra(400, 401, 403, 404, 422))
def my_personal_data_usage(
    request,
    userId: Annotated[str, documented(pattern=PERSONAL_ID_PATTERN)] = Query(
        ..., max_length=40, description="Your personal identification number (12 digits)."),
    databaseId: str = Query(..., max_length=50, description="The registry's code, e.g. population."),
    before: int | None = Query(None, ge=1, description="Only entries older than this log record id (paging)."),
):
    """Nhật ký sử dụng dữ liệu cá nhân: who read your data in one registry, when and why, newest first (at most
    100 entries; pass the last `id` as `before` for older ones). Only you, signed in, for your own number."""
    if not re.fullmatch(PERSONAL_ID_PATTERN, userId):
        raise services.RegistryError(_("userId is a personal identification number: 12 digits."), field="userId",
                                     rule="format")
    entries = services.personal_data_usage(caller=request.caller, personal_id_number=userId, registry_code=databaseId,
                                           before_id=before, limit=USAGE_LIMIT)
    return [_usage_out(entry) for entry in entries]


@router.get(DATA, response=ListOut, operation_id="registryDataList", summary="list",
            openapi_extra=_extra(401, 403, 404, 422, parameters=(QUERY_FIELD_PARAMETER,)))
def list_records(
    request,
    registryName: str,
    versionNumber: str,
    search: str | None = Query(None, max_length=200, description="A value to find in the field named by `filter` "
                                                                 "(exact match: records are encrypted)."),
    filter: str | None = Query(None, max_length=64, description="The searchable field `search` looks in."),
    ordering: Literal["ascending", "descending", "asc", "desc"] = Query("ascending",
                                                                        description="By creation."),
    page: int = Query(1, ge=1, le=1_000_000, description="Result page number, from 1."),
    pageSize: int = Query(20, ge=1, description="Results on one page; capped at 100."),
    purpose: str | None = Header(None, alias="X-Purpose", description=PURPOSE_PARAMETER_TEXT),
):
    """Records of a registry that match every `query.<field>` exactly, a page at a time (`next`/`previous` are
    URIs). The population registry is never listed whole: name the person."""
    registry = services.get_registry(registryName, versionNumber)
    page_size = min(pageSize, MAX_PAGE_SIZE)
    count, results = services.list_records(registry, _query_params(request, search, filter), caller=request.caller,
                                           page=page, page_size=page_size,
                                           descending=ordering in ("descending", "desc"), purpose=_header_text(purpose))
    return {"count": count, "next": _page_uri(request, page + 1) if page * page_size < count else None,
            "previous": _page_uri(request, page - 1) if page > 1 else None, "results": results}


@router.post(f"{DATA}/create", response=ContentOut, operation_id="registryDataCreate", summary="create",
             openapi_extra=_extra(401, 403, 404, 422))
def create(request, registryName: str, versionNumber: str, body: WriteBody):
    """Creates a record, validated against the registry's schema (422 names the field)."""
    registry = services.get_registry(registryName, versionNumber)
    record, content = services.create_record(registry, body.write.content, caller=request.caller)
    return {"content": services.record_out(record, content)}


@router.post(f"{DATA}/exists", response=AnswerOut, operation_id="registryDataExists", summary="exists",
             openapi_extra=_extra(401, 403, 404, 422))
def exists(request, registryName: str, versionNumber: str, body: QueryBody):
    """Whether a record matches the query (exact values of searchable fields): true or false."""
    registry = services.get_registry(registryName, versionNumber)
    found = services.record_exists(registry, body.query.content, caller=request.caller)
    return {"answer": {"status": found,
                       "message": _("Object found from database") if found else _("No record matches the query.")}}


@router.post(f"{DATA}/read", response=ContentOut, operation_id="registryDataRead", summary="read",
             openapi_extra=_extra(401, 403, 404, 422))
def read(request, registryName: str, versionNumber: str, body: QueryBody,
         purpose: str | None = Header(None, alias="X-Purpose", description=PURPOSE_PARAMETER_TEXT)):
    """The first record matching the query (404, a problem like every egov error, when none does). Reads of
    personal data are logged with their purpose; a citizen signed in may read their own population record."""
    registry = services.get_registry(registryName, versionNumber)
    content = services.read_record(registry, body.query.content, caller=request.caller, purpose=_header_text(purpose))
    if content is None:
        raise services.NotFound("no record found")
    return _json({"content": content})


@router.put(f"{DATA}/update", response=UpdateOut, operation_id="registryDataUpdate", summary="update",
            openapi_extra=_extra(401, 403, 404, 422))
def update(request, registryName: str, versionNumber: str, body: QueryWriteBody):
    """Updates the first record that matches `query` with the fields in `write`."""
    return _update(request, registryName, versionNumber, body, many=False)


@router.put(f"{DATA}/updateEntries", response=UpdateOut, operation_id="registryDataUpdateEntries", summary="updateEntries",
            openapi_extra=_extra(401, 403, 404, 422))
def update_entries(request, registryName: str, versionNumber: str, body: QueryWriteBody):
    """Updates every record that matches `query` with the fields in `write`."""
    return _update(request, registryName, versionNumber, body, many=True)


@router.put(f"{DATA}/update-entries", response=UpdateOut, operation_id="registryDataUpdateEntriesKebab",
            summary="updateEntries (old spelling)", deprecated=True, openapi_extra=_extra(401, 403, 404, 422))
def update_entries_kebab(request, registryName: str, versionNumber: str, body: QueryWriteBody):
    """Same as `updateEntries`."""
    return _update(request, registryName, versionNumber, body, many=True)


def _update(request, code: str, version: str, body: QueryWriteBody, *, many: bool) -> dict:
    registry = services.get_registry(code, version)
    count = services.update_records(registry, body.query.content if body.query else {}, body.write.content,
                                    caller=request.caller, many=many)
    return {"answer": {"status": True, "message": _("%(count)d record(s) updated.") % {"count": count}},
            "count": count}


@router.post(f"{DATA}/updateOrCreate", response=ContentOut, operation_id="registryDataUpdateOrCreate", summary="updateOrCreate",
             openapi_extra=_extra(401, 403, 404, 422))
def update_or_create(request, registryName: str, versionNumber: str, body: QueryWriteBody):
    """Updates the record matching `query`; when none matches, creates one from `query` and `write`."""
    return _update_or_create(request, registryName, versionNumber, body)


@router.post(f"{DATA}/update-or-create", response=ContentOut, operation_id="registryDataUpdateOrCreateKebab",
             summary="updateOrCreate (old spelling)", deprecated=True, openapi_extra=_extra(401, 403, 404, 422))
def update_or_create_kebab(request, registryName: str, versionNumber: str, body: QueryWriteBody):
    """Same as `updateOrCreate`."""
    return _update_or_create(request, registryName, versionNumber, body)


def _update_or_create(request, code: str, version: str, body: QueryWriteBody) -> dict:
    registry = services.get_registry(code, version)
    content = services.update_or_create_record(registry, body.query.content if body.query else {},
                                               body.write.content, caller=request.caller)
    return {"content": content}


@router.delete(f"{DATA}/{{ID}}/delete", response={204: None}, operation_id="registryDataDelete", summary="delete",
               openapi_extra=_extra(401, 403, 404, 422))
def delete(request, registryName: str, versionNumber: str, ID: str):
    """Deletes a record by its reference (uuid). Protected registries, such as the population registry, refuse
    (403): a person is never deleted, death is a status."""
    registry = services.get_registry(registryName, versionNumber)
    services.delete_record(registry, ID, caller=request.caller)
    return HttpResponse(status=204)


@router.get(f"{DATA}/{{uuid}}/readValue/{{field}}.{{ext}}", response=ValueOut, operation_id="registryDataReadValue",
            summary="readValue", openapi_extra=_extra(400, 401, 403, 404, 422))
def read_value(request, registryName: str, versionNumber: str, uuid: str, field: str,
               ext: Annotated[str, VALUE_EXTENSION],
               purpose: str | None = Header(None, alias="X-Purpose", description=PURPOSE_PARAMETER_TEXT)):
    """One field of one record: `…/{uuid}/readValue/full_name.json` → `{"value": …}`. Only `.json` is served."""
    return _read_value(request, registryName, versionNumber, uuid, field, ext, purpose)


@router.get(f"{DATA}/{{uuid}}/read-value/{{field}}.{{ext}}", response=ValueOut, operation_id="registryDataReadValueKebab",
            summary="readValue (old spelling)", deprecated=True, openapi_extra=_extra(400, 401, 403, 404, 422))
def read_value_kebab(request, registryName: str, versionNumber: str, uuid: str, field: str,
                     ext: Annotated[str, VALUE_EXTENSION],
                     purpose: str | None = Header(None, alias="X-Purpose", description=PURPOSE_PARAMETER_TEXT)):
    """Same as `readValue`."""
    return _read_value(request, registryName, versionNumber, uuid, field, ext, purpose)


def _read_value(request, code: str, version: str, uuid: str, field: str, ext: str, purpose: str | None) -> dict:
    if ext.lower() != "json":
        raise services.RegistryError(_("“.%(ext)s” is not served: ask for the value as .json "
                                       "(…/readValue/%(field)s.json).") % {"ext": ext, "field": field},
                                     field="ext", rule="format")
    registry = services.get_registry(code, version)
    value = services.read_value(registry, uuid, field, caller=request.caller, purpose=_header_text(purpose))
    return {"value": value}
