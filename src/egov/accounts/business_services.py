"""Business accounts (tài khoản doanh nghiệp): the only code that opens them and authorises or revokes staff.

A business account is a person's own account acting for an enterprise of the enterprise registry, through a
``BusinessMembership``:

- The legal representative opens it. Whoever opens it must be the enterprise's legal representative in the registry
  (their account linked to that ``Person``), at assurance level 2 (identity verified: otherwise the link to the person
  proves nothing), and the enterprise must be active. Opening is idempotent.
- The representative authorises staff, who act for the enterprise (e.g. submit its dossiers). Staff must also be at
  level 2: acting on behalf of a business binds it, so the platform must know who each actor really is, the same
  reason the representative needs level 2. (A level-1 account gets the explanation of how to reach level 2 and can be
  authorised afterwards.) Staff are citizens' own accounts, never officer accounts: officers act for their agency.
- Representation follows the registry, read on every use: when the registry records a new legal representative, the
  former one's account stops acting for the enterprise at once (``business_queries`` never returns a stale
  representative membership) and their membership is revoked when the new representative opens the account. Staff
  they authorised stay (they were authorised by the enterprise) until the new representative revokes them.

Every change is a ledger event in the same transaction; payloads carry the enterprise code (public business data),
ids and roles, never a name, username or email.
"""
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from egov.accounts import rules
from egov.accounts.business_models import BusinessMembership
from egov.accounts.models import AssuranceLevel, User
from egov.accounts.services import PLATFORM_PARTITION, require_assurance
from egov.kernel import ledger
from egov.registries import rules as registry_rules
from egov.registries.models import Enterprise

REPRESENTATIVE, STAFF = BusinessMembership.Role.REPRESENTATIVE, BusinessMembership.Role.STAFF


class BusinessAccountError(Exception):
    """Bad input (a code that breaks a rule, an unknown code or account): ``reason`` is shown beside the field,
    ``rule`` names the check."""

    def __init__(self, reason, rule: str = ""):
        super().__init__(str(reason))
        self.reason = reason
        self.rule = rule


class BusinessAccountDenied(PermissionDenied):
    """The account may not do this for this enterprise; ``reason`` says why (shown to the user)."""

    def __init__(self, reason, rule: str = ""):
        super().__init__(str(reason))
        self.reason = reason
        self.rule = rule


def _event(event_type: str, membership: BusinessMembership, actor: User, payload: dict | None = None) -> None:
    ledger.append(event_type, partition=PLATFORM_PARTITION, actor=actor, subject=membership,
                  payload={"enterprise_code": membership.enterprise.code, "user_id": membership.user_id,
                           "role": membership.role, **(payload or {})})


def find_enterprise(code: str) -> Enterprise:
    """The enterprise with this code, or BusinessAccountError naming the rule the code breaks, or "unknown"."""
    try:
        parsed = registry_rules.parse_enterprise_code(code)
    except registry_rules.InvalidEnterpriseCode as exc:
        raise BusinessAccountError(exc.message, rule=exc.rule) from None
    if parsed.is_dependent_unit:
        raise BusinessAccountError(_("%(code)s is the code of a branch. A business account is opened for the "
                                     "enterprise itself: enter its 10-digit code (%(enterprise)s).")
                                   % {"code": parsed, "enterprise": parsed.enterprise}, rule="dependent_unit")
    enterprise = Enterprise.objects.select_related("head_office_unit__parent").filter(code=str(parsed)).first()
    if enterprise is None:
        raise BusinessAccountError(_("No enterprise with code %(code)s is in the enterprise registry. Check the code "
                                     "on the business registration certificate.") % {"code": parsed},
                                   rule="unknown")
    return enterprise


def _require_own_account(user: User) -> None:
    if not user.is_authenticated:
        raise BusinessAccountDenied(_("Sign in first."), rule="anonymous")
    if not user.is_active:
        raise BusinessAccountDenied(_("This account is disabled."), rule="disabled")
    if rules.is_officer_role(user.role):
        raise BusinessAccountDenied(_("Officer accounts act for their agency, not for businesses. Sign in with your "
                                      "personal account."), rule="officer")


def _require_active(enterprise: Enterprise) -> None:
    if enterprise.status == Enterprise.Status.DISSOLVED:
        raise BusinessAccountDenied(_("%(name)s is dissolved: nobody can act for it any more.")
                                    % {"name": enterprise.name}, rule="dissolved")
    if enterprise.status == Enterprise.Status.SUSPENDED:
        raise BusinessAccountDenied(_("%(name)s has suspended its business: its account can be used again once the "
                                      "business registration office records that it has resumed.")
                                    % {"name": enterprise.name}, rule="suspended")


def _is_representative(user: User, enterprise: Enterprise) -> bool:
    return user.person_id is not None and user.person_id == enterprise.legal_representative_id


@transaction.atomic
def open_business_account(user: User, enterprise_code: str) -> tuple[BusinessMembership, bool]:
    """Mở tài khoản doanh nghiệp: the legal representative's account starts acting for the enterprise.

    Returns (membership, created); opening again returns the current membership and writes nothing. Raises
    BusinessAccountError for a bad or unknown code, AssuranceTooLow below level 2 (its reason says how to get
    level 2), BusinessAccountDenied when the account is not the representative's or the enterprise is not active."""
    _require_own_account(user)
    enterprise = find_enterprise(enterprise_code)
    require_assurance(user, AssuranceLevel.VERIFIED)
    # Locked: two tabs opening the same account at once give one membership, and the representative cannot change
    # between this check and the insert.
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if not _is_representative(user, enterprise):
        raise BusinessAccountDenied(_("The enterprise registry does not record you as the legal representative of "
                                      "%(name)s. Only the legal representative opens its business account; they can "
                                      "then authorise you as staff.") % {"name": enterprise.name},
                                    rule="not_representative")
    _require_active(enterprise)
    now = timezone.now()
    current = BusinessMembership.objects.select_for_update().filter(enterprise=enterprise, revoked_at__isnull=True)
    mine = None
    for membership in current.select_related("enterprise"):
        if membership.user_id == user.pk and membership.role == REPRESENTATIVE:
            mine = membership
        elif membership.user_id == user.pk or membership.role == REPRESENTATIVE:
            # A former representative (the registry has changed since), or this person's own staff membership,
            # which the representative membership replaces.
            membership.revoked_at, membership.revoked_by = now, user
            membership.save(update_fields=["revoked_at", "revoked_by"])
            _event("business.membership_revoked", membership, user,
                   {"reason": "superseded" if membership.user_id == user.pk else "representative_changed"})
    if mine is not None:
        return mine, False
    membership = BusinessMembership.objects.create(user=user, enterprise=enterprise, role=REPRESENTATIVE,
                                                   granted_by=user, granted_at=now)
    _event("business.account_opened", membership, user)
    return membership, True


def require_representative(user: User, enterprise: Enterprise) -> BusinessMembership:
    """The user's current representative membership of an active enterprise, or BusinessAccountDenied saying why."""
    _require_own_account(user)
    membership = (BusinessMembership.objects.filter(user=user, enterprise=enterprise, role=REPRESENTATIVE,
                                                    revoked_at__isnull=True).first())
    if membership is None or not _is_representative(user, enterprise):
        raise BusinessAccountDenied(_("Only the legal representative of %(name)s, with its business account open, "
                                      "can manage who acts for it.") % {"name": enterprise.name},
                                    rule="not_representative")
    require_assurance(user, AssuranceLevel.VERIFIED)
    _require_active(enterprise)
    return membership


def _staff_account(identifier: str) -> User:
    """The account named by username (exact) or email (any case); an email shared by several accounts is refused as
    ambiguous, so the representative never authorises someone by accident."""
    identifier = (identifier or "").strip()
    if not identifier:
        raise BusinessAccountError(_("Enter the username or email address of the person's account."),
                                   rule="required")
    user = User.objects.filter(username=identifier).first()
    if user is None and "@" in identifier:
        matches = list(User.objects.filter(email__iexact=identifier)[:2])
        if len(matches) > 1:
            raise BusinessAccountError(_("Several accounts use this email address. Enter the person's username "
                                         "instead."), rule="ambiguous")
        user = matches[0] if matches else None
    if user is None:
        raise BusinessAccountError(_("No account has this username or email address. The person first creates "
                                     "their own account and verifies their identity."), rule="unknown_account")
    return user


@transaction.atomic
def authorise_staff(representative_user: User, enterprise: Enterprise,
                    staff_username_or_email: str) -> tuple[BusinessMembership, bool]:
    """Ủy quyền nhân viên: the representative lets another person's account act for the enterprise.

    Returns (membership, created); authorising someone already authorised writes nothing."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    require_representative(representative_user, enterprise)
    staff = _staff_account(staff_username_or_email)
    if staff.pk == representative_user.pk:
        raise BusinessAccountError(_("You already act for this enterprise as its legal representative."), rule="self")
    if not staff.is_active:
        raise BusinessAccountError(_("This account is disabled."), rule="disabled")
    if rules.is_officer_role(staff.role):
        raise BusinessAccountError(_("This is an officer account: officers act for their agency, not for "
                                     "businesses. Ask the person for their personal account."), rule="officer")
    if not rules.meets_assurance(staff.assurance_level, AssuranceLevel.VERIFIED):
        raise BusinessAccountError(_("This account is at level 1 (identity not verified). Staff act on behalf of "
                                     "the enterprise, so their identity must be verified first: the person verifies "
                                     "it in “My account” (with the code sent to the contact registered in the "
                                     "population registry, the national eID, or at a one-stop desk), then you "
                                     "authorise them."), rule="level")
    existing = BusinessMembership.objects.select_related("enterprise").filter(
        user=staff, enterprise=enterprise, revoked_at__isnull=True).first()
    if existing is not None and existing.role == STAFF:
        return existing, False
    if existing is not None:  # a former representative's membership (the registry has changed since): now staff
        existing.revoked_at, existing.revoked_by = timezone.now(), representative_user
        existing.save(update_fields=["revoked_at", "revoked_by"])
        _event("business.membership_revoked", existing, representative_user, {"reason": "representative_changed"})
    membership = BusinessMembership.objects.create(user=staff, enterprise=enterprise, role=STAFF,
                                                   granted_by=representative_user, granted_at=timezone.now())
    _event("business.staff_authorised", membership, representative_user)
    return membership, True


@transaction.atomic
def revoke_staff(representative_user: User, enterprise: Enterprise, membership_id: int) -> tuple[BusinessMembership,
                                                                                               bool]:
    """Thu hồi ủy quyền: the staff member's account stops acting for the enterprise. Returns (membership, revoked
    now); revoking an already revoked membership writes nothing."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    require_representative(representative_user, enterprise)
    membership = (BusinessMembership.objects.select_for_update().select_related("enterprise")
                  .filter(Q(pk=membership_id) & Q(enterprise=enterprise) & Q(role=STAFF)).first())
    if membership is None:
        raise BusinessAccountError(_("This person is not staff of this enterprise."), rule="unknown_member")
    if membership.revoked_at is not None:
        return membership, False
    membership.revoked_at, membership.revoked_by = timezone.now(), representative_user
    membership.save(update_fields=["revoked_at", "revoked_by"])
    _event("business.staff_revoked", membership, representative_user)
    return membership, True
