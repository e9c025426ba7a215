"""The HTTP API root (Django Ninja), mounted at ``/api/``: docs at ``/api/docs``, schema at ``/api/openapi.json``.

Every error is ``application/problem+json`` (RFC 9457): ``type``, ``title``, ``status``, ``detail``, and for invalid
input ``errors``, one entry per field (``field`` is the location, e.g. ``query.limit``).
Components add their routers here: ``api.add_router("/v1/<component>/", router)``.
"""
import json
from typing import ClassVar, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.log import log_response
from django.utils.translation import gettext
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger, _csrf_needed

from egov.exchange.api_auth import problem_responses
from egov.exchange.auth import Unauthenticated
from egov.exchange.services import InvalidClient
from egov.registries.services import RateLimited, RegistryError

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str = "", **extra) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE,
                        json_dumps_params={"ensure_ascii": False})


class LocalSwagger(Swagger):
    """Swagger UI from django-ninja's own static files (never a CDN), in a page with a language and landmarks."""

    template = "api/swagger.html"
    # Deep links put a link inside each operation's toggle button, which screen readers cannot use (axe:
    # nested-interactive); without them the toggle is a plain button.
    default_settings: ClassVar[dict] = {"layout": "BaseLayout", "deepLinking": False}

    def render_page(self, request, api, **kwargs):
        from django.shortcuts import render

        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": json.dumps(self.settings, indent=1), "api": api, "add_csrf": _csrf_needed(api),
                   "openapi_url": self.settings["url"]}
        return render(request, self.template, context)


class EgovNinjaAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts):
        """Field locations as the client sees them. When an operation takes its whole body as one schema, ninja
        validates ``{<parameter name>: body}`` and reports ``("body", <parameter name>, "applicantId")``; the
        parameter name is not in the request, so it is dropped: ``body.applicantId``, as the services say."""
        errors = []
        for context in error_contexts:
            single = getattr(context.model, "__read_from_single_attr__", None)
            for error in super().validation_error_from_error_contexts([context]).errors:
                loc = tuple(error.get("loc", ()))
                if single and loc[:2] == ("body", single):
                    error["loc"] = ("body", *loc[2:])
                errors.append(error)
        return ValidationError(errors)

    def get_openapi_schema(self, *args, **kwargs):
        """Every operation that reads a body answers 413 past the size the platform reads (``on_body_too_large``):
        each one documents it."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for methods in schema["paths"].values():
            for operation in methods.values():
                if "requestBody" in operation:
                    operation["responses"].setdefault("413", problem_responses(413)["413"])
        return schema


api = EgovNinjaAPI(title="egov API", version="1", urls_namespace="api", docs=LocalSwagger())


def _field(loc) -> str:
    return ".".join(str(part) for part in loc)


# APIs whose spec gives invalid input another status than 422 (GovStack Messaging: 405).
INVALID_INPUT_STATUS = {"/api/govstack/messaging/": 405}


def invalid_input_status(request) -> int:
    """The status of invalid input (fields that fail validation, a body that is not JSON) on this API."""
    return next((code for prefix, code in INVALID_INPUT_STATUS.items() if request.path.startswith(prefix)), 422)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = [{"field": _field(error.get("loc", ())), "message": error.get("msg", ""), "type": error.get("type", "")}
              for error in exc.errors]
    return problem(invalid_input_status(request), "Invalid input", "One or more fields are invalid.", errors=errors)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc: AuthenticationError):
    detail = str(exc)
    if detail in ("", "Unauthorized"):  # django-ninja's default: say what to send instead
        detail = gettext("No credentials: send your client system's API key (Authorization: Bearer …), come "
                         "through a trusted Information Mediator, or sign in.")
    response = problem(401, "Authentication required", detail)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(AuthorizationError)
def on_authorization_error(request, exc: AuthorizationError):
    return problem(403, "Forbidden", str(exc))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc: PermissionDenied):
    return problem(403, "Forbidden", str(exc) or "You do not have the right to do this.")


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return problem(404, "Not found", str(exc) or "No such resource.")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400 and isinstance(exc.__cause__, (ValueError, RecursionError)):
        # ninja could not parse the body (not JSON, not UTF-8, or nested deeper than the JSON parser recurses):
        # invalid input like any other of this API (422, or its spec's status), never a bare 400/500.
        return problem(invalid_input_status(request), "Invalid input", "The request body is not valid JSON.",
                       errors=[{"field": "body", "message": "The request body is not valid JSON.", "type": "json_invalid"}])
    return problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc))


@api.exception_handler(MultiPartParserError)
def on_unreadable_multipart(request, exc: MultiPartParserError):
    """A multipart body Django cannot read (no boundary, a broken part): the client's mistake, a 400 problem that
    says what to send, logged as one line (Django would log it with its traceback, as if the server had failed)."""
    message = gettext("The request body cannot be read as multipart/form-data: send it with its boundary "
                      "(Content-Type: multipart/form-data; boundary=…), as an HTTP client does for a file upload.")
    response = problem(400, "Bad request", message, errors=[{"field": "body", "message": message,
                                                             "type": "multipart_invalid"}])
    log_response("Bad request (unreadable multipart body: %s): %s", exc, request.path, response=response,
                 request=request)
    return response


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request, exc: RequestDataTooBig):
    """A body larger than Django reads (DATA_UPLOAD_MAX_MEMORY_SIZE): a 413 problem that says the limit, logged as
    one line (Django would answer a bare 400, which no operation documents)."""
    message = gettext("The request body is larger than %(limit)d bytes, the most this API reads.") % {
        "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    response = problem(413, "Content too large", message)
    log_response("Content too large: %s", request.path, response=response, request=request)
    return response


_TITLES = {400: "Bad request", 401: "Authentication required", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Content too large", 415: "Unsupported media type",
           422: "Invalid input", 429: "Too many requests"}


@api.exception_handler(RegistryError)
def on_registry_error(request, exc: RegistryError):
    """A business refusal from the registries' services: its status, message, and the field and rule it names."""
    message = str(exc.message)
    extra = {"field": exc.field, "rule": exc.rule} if exc.field or exc.rule else {}
    if exc.status == 422:
        extra["errors"] = [{"field": exc.field, "message": message, "type": exc.rule}]
    response = problem(exc.status, _TITLES.get(exc.status, "Error"), message, **extra)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(max(1, int(exc.retry_after)))
    return response


@api.exception_handler(Unauthenticated)
def on_unauthenticated(request, exc: Unauthenticated):
    response = problem(401, "Authentication required", str(exc))
    response["WWW-Authenticate"] = 'Bearer realm="egov", ApiKey realm="egov"'
    return response


@api.exception_handler(InvalidClient)
def on_invalid_client(request, exc: InvalidClient):
    message = str(exc.message)
    return problem(422, "Invalid input", message, field=exc.field,
                   errors=[{"field": exc.field, "message": message, "type": "client"}])


class Health(Schema):
    status: str


@api.get("/v1/health", response=Health, tags=["platform"], summary="The API answers")
def health(request):
    return {"status": "ok"}


# --- Base registries: administrative units -------------------------------------------------------------------------

class AdministrativeUnitOut(Schema):
    code: str
    name: str
    kind: str
    level: Literal["province", "district", "commune"]
    generation: Literal["2025", "legacy"]
    parent_code: str | None


class AdministrativeUnitPage(Schema):
    items: list[AdministrativeUnitOut]
    next_after: str | None = Field(None, description="Pass as `after` for the next page; null on the last page.")


def _unit_out(unit) -> dict:
    return {"code": unit.code, "name": unit.name, "kind": unit.kind, "level": unit.level,
            "generation": unit.generation, "parent_code": unit.parent.code if unit.parent_id else None}


@api.get("/v1/administrative-units", response=AdministrativeUnitPage, tags=["registries"],
         summary="Administrative units (đơn vị hành chính)",
         openapi_extra={"responses": problem_responses(400, 422, texts={
             400: "`after` with `q`: a search returns one ranked page, it is not paged."})})
def administrative_units(
    request,
    q: str = Query("", max_length=100, description="Words of the name; diacritics and đ are ignored ('da nang')."),
    generation: Literal["2025", "legacy"] = Query("2025", description="2025: after 1 July 2025; legacy: before."),
    level: Literal["province", "district", "commune"] | None = Query(None),
    after: str | None = Query(None, pattern=r"^[0-9]{1,5}$", description="Code of the last unit of the previous page."),
    limit: int = Query(20, ge=1, description="Page size; capped at 100."),
):
    """Without `q`: every unit in code order, a page at a time (keyset: `after` = the last code seen).
    With `q`: the best matches first, one page only (at most `limit`)."""
    from egov.registries import queries  # imported late: the API module loads before the apps are ready

    limit = min(limit, 100)
    if q.strip():
        if after:
            message = gettext("“after” pages the list in code order; a search (q) returns one page of the best "
                              "matches: leave out “after”.")
            return problem(400, "Bad request", message, field="query.after",
                           errors=[{"field": "query.after", "message": message, "type": "search_not_paged"}])
        return {"items": [_unit_out(u) for u in queries.search_units(q, generation=generation, limit=limit, level=level)],
                "next_after": None}
    units = queries.list_units(generation=generation, level=level, after=after, limit=limit + 1)
    more = len(units) > limit
    units = units[:limit]
    return {"items": [_unit_out(u) for u in units], "next_after": units[-1].code if more and units else None}


# --- Routers of the components ---------------------------------------------------------------------------------------

def _add_routers() -> None:
    from egov.govstack.digital_registries import router as digital_registries
    from egov.govstack.registration import router as registration
    from egov.registries.api import router as population

    api.add_router("/v1/population/", population)
    api.add_router("/govstack/digital-registries/", digital_registries)
    api.add_router("/govstack/registration/", registration)
    api.add_router("/v1/statistics", "egov.monitoring.api.router")
    api.add_router("/govstack/messaging/", "egov.govstack.messaging.router")
    api.add_router("/v1/results", "egov.dossiers.result_api.router")
    api.add_router("/v1/payments/", "egov.payments.api.router")


_add_routers()
