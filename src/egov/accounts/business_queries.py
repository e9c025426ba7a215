"""Reads for business accounts. Representation follows the enterprise registry: a representative membership counts
only while the account's person is still the enterprise's legal representative."""
from django.db.models import F, Q

from egov.accounts.business_models import BusinessMembership

_CURRENT = Q(revoked_at__isnull=True)
# Staff memberships, or representative memberships whose account is still linked to the registry's representative.
_VALID = _CURRENT & (Q(role=BusinessMembership.Role.STAFF)
                     | Q(role=BusinessMembership.Role.REPRESENTATIVE,
                         user__person_id=F("enterprise__legal_representative_id")))


def enterprises_of(user) -> list[BusinessMembership]:
    """The user's current memberships (each with its enterprise and head office), by enterprise name. Memberships of
    dissolved or suspended enterprises are listed too, so the user sees why they can no longer act."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(BusinessMembership.objects.filter(_VALID, user=user)
                .select_related("enterprise__head_office_unit__parent").order_by("enterprise__name", "enterprise__code"))


def membership_of(user, enterprise) -> BusinessMembership | None:
    """The user's valid current membership of this enterprise, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return BusinessMembership.objects.filter(_VALID, user=user, enterprise=enterprise).first()


def members_of(enterprise) -> list[BusinessMembership]:
    """Who acts for the enterprise now: the representative first, then staff by when they were authorised."""
    return list(BusinessMembership.objects.filter(_VALID, enterprise=enterprise)
                .select_related("user", "granted_by").order_by("role", "granted_at"))
