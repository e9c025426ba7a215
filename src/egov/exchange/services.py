"""Client systems and their grants: registered by the platform admin (the only code that changes them)."""
import hashlib
import re
import secrets

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from egov.exchange.models import ClientSystem, ServiceGrant
from egov.kernel import ledger
from egov.kernel.access import Caller, Denied

KEY_PREFIX = "egk_"
IDENTIFIER_PATTERN = re.compile(r"^VN:GOV:(?P<member>[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[GH][0-9]{2}):(?P<subsystem>[a-z0-9-]{2,40})$")
# registration.*: the GovStack Registration API (egov.govstack.registration): read the agency's applications,
# submit applications for citizens, work the agency's processing tasks.
# messaging.*: the GovStack Messaging API (egov.govstack.messaging): send emails and read their status; report
# delivery (an email provider's bounces).
SERVICE_PATTERN = re.compile(r"^(population\.(verify|release)|registry\.[a-z][a-z0-9-]{1,48}[a-z0-9]\.(read|write)"
                             r"|registration\.(read|submit|tasks)|messaging\.(send|report))$")


class InvalidClient(ValueError):
    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def normalise_identifier(raw: str) -> str:
    """``VN:GOV:000.00.12.H29:hotich`` or GovStack's ``VN/GOV/000.00.12.H29/hotich`` → the colon form."""
    text = (raw or "").strip()
    parts = text.split("/") if "/" in text else text.split(":")
    return ":".join(parts)


def _require_platform_admin(caller: Caller) -> None:
    if caller.kind != "system" and caller.role != "platform_admin":
        raise Denied(_("Only the platform administrator registers client systems."))


@transaction.atomic
def register_client(*, caller: Caller, identifier: str, name: str, agency, grants: dict[str, list[str]] | None = None,
                    verify_limit_per_minute: int = 600) -> tuple[ClientSystem, str]:
    """Register a client system; returns it and its API key, shown once (only its digest is stored)."""
    _require_platform_admin(caller)
    identifier = normalise_identifier(identifier)
    match = IDENTIFIER_PATTERN.match(identifier)
    if not match:
        raise InvalidClient("identifier", _("Write the identifier as VN:GOV:{organisation code}:{subsystem}, e.g. "
                                            "VN:GOV:000.00.12.H29:hotich (subsystem: lower-case letters, digits, -)."))
    if match.group("member") != agency.code:
        raise InvalidClient("identifier", _("The identifier's organisation code must be the agency's (%(code)s).")
                            % {"code": agency.code})
    if ClientSystem.objects.filter(identifier=identifier).exists():
        raise InvalidClient("identifier", _("A client system with this identifier exists already."))
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ClientSystem.objects.create(identifier=identifier, name=name.strip() or identifier, agency=agency,
                                         key_digest=key_digest(raw_key), key_hint=raw_key[:10],
                                         verify_limit_per_minute=verify_limit_per_minute)
    ledger.append("exchange.client_registered", partition=agency.code, actor=caller.actor, subject=client,
                  payload={"identifier": identifier})
    set_grants(client, grants or {}, caller=caller)
    return client, raw_key


@transaction.atomic
def set_grants(client: ClientSystem, grants: dict[str, list[str]], *, caller: Caller) -> None:
    """Replace the client's grants: service → allowed purposes (purposes matter for population.release)."""
    for service in grants:
        if not SERVICE_PATTERN.match(service):
            raise InvalidClient("grants", _("“%(service)s” is not a service (population.verify, population.release, "
                                            "registry.CODE.read, registry.CODE.write).") % {"service": service})
    if caller.kind != "system" and caller.role != "platform_admin":
        raise Denied(_("Only the platform administrator changes a client system's rights."))
    ServiceGrant.objects.filter(client=client).exclude(service__in=list(grants)).delete()
    for service, purposes in grants.items():
        ServiceGrant.objects.update_or_create(client=client, service=service,
                                              defaults={"purposes": [p.strip() for p in purposes if p.strip()]})
    ledger.append("exchange.grants_set", partition=client.agency.code, actor=caller.actor, subject=client,
                  payload={"services": sorted(grants)})


@transaction.atomic
def set_registry_grants(registry, *, caller: Caller, readers: list[ClientSystem], writers: list[ClientSystem]) -> None:
    """Who may read and write one registry: set by the admins of the agency that owns its code (or the platform
    admin). The rights are per code, so they hold for every version of it: that is why the code's owner (the
    agency of its first version), not this version's agency, decides; a version another agency holds (defined
    before codes had owners) gives that agency no say over them."""
    from egov.registries import queries, rules
    from egov.registries.services import require_registry_admin

    owner = queries.registry_code_owner(registry.code) or registry.agency
    if caller.kind == "officer" and caller.role != "platform_admin" and caller.agency_code != owner.code:
        raise Denied(_("Registry %(code)s belongs to %(agency)s: only its administrators decide who may read and "
                       "write it.") % {"code": registry.code, "agency": owner.name})
    require_registry_admin(caller, owner)
    for action, clients in (("read", readers), ("write", writers)):
        service = rules.registry_right(registry.code, action)
        ServiceGrant.objects.filter(service=service).exclude(client__in=clients).delete()
        for client in clients:
            ServiceGrant.objects.get_or_create(client=client, service=service)
    ledger.append("exchange.registry_grants_set", partition=owner.code, actor=caller.actor,
                  subject=registry, payload={"readers": [c.pk for c in readers], "writers": [c.pk for c in writers]})


def caller_for_client(client: ClientSystem, *, agency_code: str | None = None,
                      grants: list[tuple[str, list[str]]] | None = None) -> Caller:
    """The Caller of a client system: its grants as rights (``service`` and ``service#purpose``). ``agency_code`` and
    ``grants`` may come already read (``queries.active_client``); otherwise they are read here."""
    if grants is None:
        grants = list(client.grants.values_list("service", "purposes"))
    rights = set()
    for service, purposes in grants:
        rights.add(service)
        rights.update(f"{service}#{purpose}" for purpose in purposes or [])
    return Caller(kind="client", actor=client, agency_code=agency_code or client.agency.code, rights=frozenset(rights),
                  label=client.identifier)


# --- OpenID Connect / OAuth 2.0 applications of client systems ----------------------------------------------------

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _check_redirect_uris(uris: list[str], field: str) -> list[str]:
    """https only, except loopback http (an agency system under development on the operator's machine); no
    fragments, no wildcards: DOT compares them exactly."""
    from urllib.parse import urlsplit

    checked = []
    for uri in uris:
        uri = uri.strip()
        if not uri:
            continue
        parts = urlsplit(uri)
        if parts.scheme not in {"https", "http"} or not parts.hostname:
            raise InvalidClient(field, _("“%(uri)s” is not an absolute http(s) address.") % {"uri": uri})
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
            raise InvalidClient(field, _("“%(uri)s”: use https (plain http is accepted only on this machine, "
                                         "127.0.0.1 or localhost).") % {"uri": uri})
        if parts.fragment or "*" in uri:
            raise InvalidClient(field, _("“%(uri)s”: a redirect address may not have a #fragment or a wildcard.")
                                % {"uri": uri})
        checked.append(uri)
    return checked


@transaction.atomic
def register_oidc_client(*, caller: Caller, client: ClientSystem, kind: str, redirect_uris: list[str] | None = None,
                         post_logout_redirect_uris: list[str] | None = None, client_id: str | None = None,
                         client_secret: str | None = None):
    """Give a client system an OAuth 2.0 / OpenID Connect application; returns it and its client secret, shown once
    (DOT stores only a hash of it). ``kind`` "sign-in": its users sign in with egov (authorization code + PKCE, ID
    tokens signed RS256), at least one redirect address; "system": it calls egov's APIs with client-credentials
    access tokens. ``client_id``/``client_secret`` are for the published demo only; otherwise both are random."""
    from oauth2_provider.models import get_application_model

    from egov.exchange.models import OidcApplication

    _require_platform_admin(caller)
    Application = get_application_model()
    if kind not in OidcApplication.Kind.values:
        raise InvalidClient("kind", _("Choose the kind of application: sign-in or system."))
    if not client.is_active:
        raise InvalidClient(None, _("The client system is disabled: enable it before giving it an application."))
    redirects = _check_redirect_uris(list(redirect_uris or []), "redirect_uris")
    logouts = _check_redirect_uris(list(post_logout_redirect_uris or []), "post_logout_redirect_uris")
    if kind == OidcApplication.Kind.SIGN_IN and not redirects:
        raise InvalidClient("redirect_uris", _("A sign-in application needs at least one redirect address, where "
                                               "egov sends the person back after signing in."))
    if kind == OidcApplication.Kind.SYSTEM:
        redirects, logouts = [], []
    raw_secret = client_secret or secrets.token_urlsafe(48)
    fields = {"client_id": client_id} if client_id else {}
    application = Application(
        name=client.name[:255], client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=(Application.GRANT_AUTHORIZATION_CODE if kind == OidcApplication.Kind.SIGN_IN
                                  else Application.GRANT_CLIENT_CREDENTIALS),
        redirect_uris=" ".join(redirects), post_logout_redirect_uris=" ".join(logouts),
        algorithm=Application.RS256_ALGORITHM if kind == OidcApplication.Kind.SIGN_IN else Application.NO_ALGORITHM,
        client_secret=raw_secret, hash_client_secret=True, skip_authorization=False, **fields)
    application.save()
    OidcApplication.objects.create(client=client, application=application, kind=kind)
    ledger.append("exchange.oidc_client_registered", partition=client.agency.code, actor=caller.actor, subject=client,
                  payload={"identifier": client.identifier, "client_id": application.client_id, "kind": kind,
                           "redirect_uris": redirects, "post_logout_redirect_uris": logouts})
    return application, raw_secret
