"""Who is calling an API (ARCHITECTURE.md, "Who calls an API").

* Through a trusted Information Mediator (its source address is in ``EGOV_TRUSTED_MEDIATORS``): the mediator has
  authenticated the calling system and names it in ``Information-Mediator-Client``; that header is trusted.
* Directly: the client system authenticates with its API key (``Authorization: Bearer egk_…``, or ``ApiKey egk_…``,
  or the bare key as GovStack's apiKey scheme sends it), or with an OAuth 2.0 access token that egov's token
  endpoint (``/o/token/``) issued to one of its applications by the client credentials grant (``Bearer …``;
  API keys always start with ``egk_``, so the two never mix). A token issued to a person's sign-in is refused here:
  it speaks for that person towards the agency system, not for the system towards egov. A
  ``Information-Mediator-Client`` header from an untrusted source must name the same system as the key or token, or
  the call is refused: a forged header never names the caller.
* A signed-in person (browser session): citizens and officers, for the API calls their pages make. Unsafe methods
  then need the CSRF token like any form.

Everything else is 401. What a caller may do is decided by the services (403).
"""
from __future__ import annotations


from django.conf import settings
from django.utils.translation import gettext as _

from egov.exchange import queries, services
from egov.kernel.access import Caller
from egov.kernel.client_address import client_address, in_networks

MEDIATOR_HEADER = "HTTP_INFORMATION_MEDIATOR_CLIENT"


class Unauthenticated(Exception):
    """401: the message says what to send."""


def from_trusted_mediator(request) -> bool:
    return in_networks(client_address(request), settings.TRUSTED_MEDIATORS)


def _bearer(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "").strip()
    for scheme in ("Bearer ", "ApiKey ", "Api-Key "):
        if header[: len(scheme)].lower() == scheme.lower():
            return header[len(scheme):].strip()
    return header


def _caller(found) -> Caller:
    client, agency_code, grants = found
    return services.caller_for_client(client, agency_code=agency_code, grants=grants)


def client_caller(request, *, api_key: str | None = None) -> Caller | None:
    """The calling client system, or None when the request carries no client credentials at all. ``api_key``: a key
    an API takes in another header than ``Authorization`` (GovStack Messaging's ``apiKey``); sent with a different
    ``Authorization``, the call is refused rather than guessed."""
    named = request.META.get(MEDIATOR_HEADER, "").strip()
    if named and from_trusted_mediator(request):
        found = queries.active_client(identifier=services.normalise_identifier(named))
        if found is None:
            raise Unauthenticated(_("The mediator named an unknown or disabled client system."))
        return _caller(found)
    key = _bearer(request)
    if api_key:
        if key and key != api_key:
            raise Unauthenticated(_("Two different credentials were sent (Authorization and the API key header): "
                                    "send one."))
        key = api_key
    if not key:
        if named:
            raise Unauthenticated(_("Information-Mediator-Client is accepted only from a trusted mediator; "
                                    "authenticate with your API key."))
        return None
    if key.startswith(services.KEY_PREFIX):
        found = queries.active_client(key_digest=services.key_digest(key))
        if found is None:
            raise Unauthenticated(_("The API key is not valid, or its client system is disabled."))
    else:
        found = _token_client(key)
    if named and services.normalise_identifier(named) != found[0].identifier:
        raise Unauthenticated(_("Information-Mediator-Client names another system than the API key's: refused."))
    return _caller(found)


def _token_client(token: str):
    """(client, agency code, grants) of a client-credentials access token, or 401 saying what is wrong with it."""
    lookup = queries.client_for_access_token(token)
    if lookup.status == "ok":
        return lookup.found
    if lookup.status == "expired":
        raise Unauthenticated(_("The access token has expired: get a new one from the token endpoint (client "
                                "credentials grant)."))
    if lookup.status == "person":
        raise Unauthenticated(_("This access token was issued to a person's sign-in; system calls need a token "
                                "from the client credentials grant (or the API key)."))
    if lookup.status == "disabled":
        raise Unauthenticated(_("The access token's client system is disabled or unknown."))
    raise Unauthenticated(_("The credentials are neither an API key (egk_…) nor an access token that egov issued "
                            "(it may have been revoked): get a token from the token endpoint."))
