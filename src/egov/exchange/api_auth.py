"""The one authentication of egov's data APIs (Django Ninja): a client system first, else a signed-in person.

Order of trust (ARCHITECTURE.md, "Who calls an API"):

1. A client system: named by a trusted Information Mediator in ``Information-Mediator-Client``, or authenticated by
   its API key (``egov.exchange.auth.client_caller``). Bad or forged client credentials are a 401 even when the
   browser also carries a session: a request is never silently downgraded to another identity.
2. A signed-in person (browser session): a citizen, or an officer who has passed the TOTP step. Unsafe methods need
   Django's CSRF token, exactly as ninja's ``django_auth`` checks it.
3. Nobody: 401 (``AuthenticationError``), with a ``WWW-Authenticate`` header.

The resulting ``Caller`` is returned (ninja keeps it as ``request.auth``) and put on ``request.caller``: handlers pass
it to the services, which decide what the caller may do (403).
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security.apikey import APIKeyHeader
from ninja.utils import check_csrf

from egov.exchange.auth import MEDIATOR_HEADER, Unauthenticated, client_caller
from egov.kernel.access import Caller

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# The header that a trusted Information Mediator (X-Road security server, egov's gateway) sets: documented on every
# operation that accepts it. GovStack marks it required; here an API key or a session may stand in for it.
MEDIATOR_PARAMETER = {
    "in": "header",
    "name": "Information-Mediator-Client",
    "required": False,
    "description": "The calling client system, as the Information Mediator authenticated it: "
                   "INSTANCE/CLASS/MEMBER/SUBSYSTEM (e.g. VN/GOV/000.00.12.H29/hotich; VN:GOV:… is accepted too). "
                   "Trusted only from a configured mediator (EGOV_TRUSTED_MEDIATORS); a direct caller authenticates "
                   "with its API key instead, and a header naming another system than the key's is refused (401).",
    "schema": {"type": "string", "example": "VN/GOV/000.00.12.H29/hotich"},
}

_PROBLEM_TEXTS = {
    400: "Bad request: the message says what to change.",
    401: "No valid credentials: send your API key, come through a trusted Information Mediator, or sign in.",
    403: "Authenticated, but without the right (or the declared purpose) for this.",
    404: "No such registry, record or person.",
    409: "Conflict with the current state.",
    413: "The request body is too large.",
    415: "Unsupported format.",
    422: "Invalid input: `errors` (and `field`, `rule`) name what is wrong.",
    429: "Too many requests: wait the seconds in `Retry-After`.",
}
_PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "field": {"type": "string"}, "rule": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}, "type": {"type": "string"}}}},
    },
    "required": ["type", "title", "status"],
}


def problem_responses(*statuses: int, texts: dict[int, str] | None = None) -> dict:
    """OpenAPI ``responses`` entries for errors, each an RFC 9457 problem (``application/problem+json``); ``texts``
    says what a status means for this operation where the general description would not."""
    texts = texts or {}
    return {str(status): {"description": texts.get(status) or _PROBLEM_TEXTS.get(status, "Error."),
                          "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}}}
            for status in statuses}


class ApiCaller(APIKeyHeader):
    """Client system (mediator header or API key) or signed-in person. OpenAPI shows it as GovStack's ``apiKey``
    scheme: the key in the ``Authorization`` header (``Bearer egk_…``, ``ApiKey egk_…`` or the bare key)."""

    param_name = "Authorization"
    openapi_description = ("A client system's API key (Bearer egk_…, ApiKey egk_… or the bare key). Calls through a "
                           "trusted Information Mediator need none; pages of a signed-in person use their session.")

    def __call__(self, request) -> Caller | None:
        caller = client_caller(request)  # raises Unauthenticated (401) on bad client credentials
        if caller is None:
            caller = self._session_caller(request)
        if caller is not None:
            request.caller = caller
        return caller

    def authenticate(self, request, key: str | None) -> Caller | None:  # pragma: no cover - __call__ does the work
        return self(request)

    @staticmethod
    def _session_caller(request) -> Caller | None:
        from egov.accounts.services import caller_for_user  # late: accounts imports models at load

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not user.is_active:
            raise Unauthenticated(_("This account is disabled."))
        if user.needs_second_factor and not (hasattr(user, "is_verified") and user.is_verified()):
            raise Unauthenticated(_("Complete the second sign-in step (the code from your authenticator app) "
                                    "before using the API."))
        if request.method in UNSAFE_METHODS and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise HttpError(403, _("CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken "
                                       "header."))
        return caller_for_user(user)


api_caller = ApiCaller()

__all__ = ["MEDIATOR_HEADER", "MEDIATOR_PARAMETER", "ApiCaller", "Unauthenticated", "api_caller", "problem_responses"]
