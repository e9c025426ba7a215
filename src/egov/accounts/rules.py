"""Pure rules for accounts and roles (no I/O): who may act for which agency, who needs a second factor, throttling.

Agency scope (phạm vi cơ quan), decided here once for the whole platform:

- Citizens and business representatives never act for an agency.
- Officers (desk officer, specialist, head of unit, agency leader, agency admin) act only within their own agency:
  the exact organisation code, not its parent and not its children. A department's specialist cannot process a
  commune's dossiers.
- Managing officers (creating, listing, disabling officer accounts) is the agency admin's job, for their own agency
  AND the agencies below it in the hierarchy: in Vietnam the accounts of a province's departments and communes are
  usually administered by one provincial unit, so a province-level admin must reach the whole subtree. It never
  reaches upwards or sideways.
- The platform admin may do both everywhere.
"""
import enum
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from egov.accounts.models import AssuranceLevel, Role

def role_label(role: str | None) -> str:
    """A role's name in the reader's language (``Role``'s label); a value no role has as it is, None as ""."""
    return str(Role(role).label) if role in Role.values else (role or "")


OFFICER_ROLES = frozenset({
    Role.DESK_OFFICER, Role.SPECIALIST, Role.HEAD_OF_UNIT, Role.AGENCY_LEADER, Role.AGENCY_ADMIN, Role.PLATFORM_ADMIN,
})
PUBLIC_ROLES = frozenset({Role.CITIZEN, Role.BUSINESS_REPRESENTATIVE})


class Action(enum.StrEnum):
    ACT = "act"                          # work on the agency's dossiers, documents, data
    MANAGE_OFFICERS = "manage_officers"  # list, create and disable the agency's officer accounts


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def is_officer_role(role: str) -> bool:
    return role in OFFICER_ROLES


def requires_second_factor(role: str, *, is_staff: bool = False, is_superuser: bool = False) -> bool:
    """Officers and admins (and anyone who can open the Django admin) must confirm a TOTP code after the password."""
    return is_officer_role(role) or is_staff or is_superuser


def can_act_for_agency(user_role: str, user_agency_code: str | None, target_agency_code: str, *,
                       target_ancestor_codes: tuple[str, ...] = (), action: Action = Action.ACT) -> Verdict:
    """May a user with this role, belonging to ``user_agency_code``, do ``action`` for ``target_agency_code``?

    ``target_ancestor_codes`` are the organisation codes above the target (parent first); they matter only for an
    agency admin managing officers of a child agency."""
    if user_role == Role.PLATFORM_ADMIN:
        return Verdict(True)
    if not is_officer_role(user_role):
        return Verdict(False, _("Only agency officers can do this."))
    if not user_agency_code:
        return Verdict(False, _("Your account does not belong to any agency."))
    if action == Action.MANAGE_OFFICERS:
        if user_role != Role.AGENCY_ADMIN:
            return Verdict(False, _("Only an agency administrator can manage officer accounts."))
        if user_agency_code == target_agency_code or user_agency_code in target_ancestor_codes:
            return Verdict(True)
        return Verdict(False, _("You can manage officers only of your own agency and the agencies under it."))
    if user_agency_code == target_agency_code:
        return Verdict(True)
    return Verdict(False, _("You can act only for your own agency."))


def normalise_username(username: str) -> str:
    """The key under which failed sign-ins are counted: ``Admin`` and ``admin `` count as one account."""
    return unicodedata.normalize("NFKC", username or "").strip().casefold()[:255]


def throttle_retry_at(failure_times: list[datetime], *, limit: int, window: timedelta, now: datetime) -> datetime | None:
    """When sign-in may be tried again, or None if it may be tried now.

    Refused once ``limit`` failures lie within the last ``window``; allowed again when enough of them have aged out
    of the window to leave fewer than ``limit``."""
    recent = sorted(t for t in failure_times if now - t < window)
    if limit <= 0 or len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window


# Rights of a signed-in person (strings checked by services; client systems get theirs from their grants).
# Officers who serve applicants look persons up (each read logged with its purpose); civil-status and residence
# work (registering births, deaths, moves, corrections) belongs to desk officers and specialists. Entering
# enterprises and their changes in the enterprise registry is the business registration specialist's decision.
ROLE_RIGHTS = {
    Role.DESK_OFFICER: frozenset({"population.lookup", "population.register", "accounts.verify_identity",
                                  "dossiers.backoffice"}),
    Role.SPECIALIST: frozenset({"population.lookup", "population.register", "enterprise.register", "dossiers.backoffice"}),
    Role.HEAD_OF_UNIT: frozenset({"population.lookup", "dossiers.backoffice"}),
    Role.AGENCY_LEADER: frozenset({"population.lookup", "dossiers.backoffice"}),
    Role.AGENCY_ADMIN: frozenset({"registry.define"}),
    Role.PLATFORM_ADMIN: frozenset({"registry.define", "population.register", "enterprise.register"}),
    Role.CITIZEN: frozenset(),
    Role.BUSINESS_REPRESENTATIVE: frozenset(),
}


def rights_of(role: str) -> frozenset[str]:
    return ROLE_RIGHTS.get(role, frozenset())


def meets_assurance(level: int, required: int) -> bool:
    """An account at ``level`` may use what needs ``required`` (levels are ordered: 2 covers 1)."""
    return int(level or AssuranceLevel.BASIC) >= int(required or AssuranceLevel.BASIC)


# One-time codes (mã xác thực): sent to a contact the person controls, short-lived, few tries, used once.
CODE_DIGITS = 6
CODE_MINUTES = 10
CODE_LIFETIME = timedelta(minutes=CODE_MINUTES)
CODE_MAX_TRIES = 5
CODES_PER_HOUR = 5          # codes one account may ask for in an hour (each costs an SMS; stops flooding a phone)
IDENTITY_CHECKS_PER_HOUR = 10  # registry matches one account may try in an hour (stops guessing identities)


class CodeState(enum.StrEnum):
    USABLE = "usable"
    EXPIRED = "expired"
    USED = "used"
    LOCKED = "locked"


def code_state(*, now: datetime, expires_at: datetime, tries: int, used: bool) -> CodeState:
    """What can still be done with a one-time code. Used wins over everything; a locked code stays locked."""
    if used:
        return CodeState.USED
    if tries >= CODE_MAX_TRIES:
        return CodeState.LOCKED
    if now >= expires_at:
        return CodeState.EXPIRED
    return CodeState.USABLE


def masked_address(address: str | None) -> str:
    """A client address as the sessions page shows it: the network, not the host (203.0.113.x, 2001:db8:1:2::/64)."""
    import ipaddress

    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return ""
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:3]) + ".x"
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def device_label(user_agent: str) -> str:
    """A browser and system in a few words from a User-Agent header ("Chrome on Android"); "" when unknown."""
    ua = user_agent or ""
    browser = next((name for token, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("CocCoc", "Cốc Cốc"),
                                              ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"),
                                              ("Safari/", "Safari")) if token in ua), "")
    system = next((name for token, name in (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"),
                                             ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))
                   if token in ua), "")
    if browser and system:
        return f"{browser} / {system}"
    return browser or system or ua[:40]
