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
SERVICE_PATTERN = re.compile(r"^(population\.(verify|release)|registry\.[a-z][a-z0-9-]{1,48}[a-z0-9]\.(read|write))$")


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
    """Who may read and write one registry: set by the agency admin who owns it (or the platform admin)."""
    from egov.registries import rules
    from egov.registries.services import require_registry_admin

    require_registry_admin(caller, registry.agency)
    for action, clients in (("read", readers), ("write", writers)):
        service = rules.registry_right(registry.code, action)
        ServiceGrant.objects.filter(service=service).exclude(client__in=clients).delete()
        for client in clients:
            ServiceGrant.objects.get_or_create(client=client, service=service)
    ledger.append("exchange.registry_grants_set", partition=registry.agency.code, actor=caller.actor,
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
