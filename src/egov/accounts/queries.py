"""Reads for accounts."""
from egov.accounts.models import User
from egov.accounts.rules import OFFICER_ROLES

OFFICERS_PAGE_SIZE = 50


def officers_of_agency(agency, *, after_id: int = 0, limit: int = OFFICERS_PAGE_SIZE) -> tuple[list[User], int | None]:
    """One page of an agency's officers in id order, paginated by key (``after_id``), never by offset.

    Returns the page and the key of the next page (None on the last page)."""
    rows = list(User.objects.filter(agency=agency, role__in=OFFICER_ROLES, pk__gt=after_id)
                .order_by("pk").only("pk", "username", "first_name", "last_name", "role", "is_active")[: limit + 1])
    next_after = rows[limit - 1].pk if len(rows) > limit else None
    return rows[:limit], next_after
