"""Template filters for the site navigation."""
from django import template

from egov.accounts.rules import rights_of

register = template.Library()


@register.filter
def may(user, right: str) -> bool:
    """``{% if user|may:"population.lookup" %}``: the signed-in user's role carries this right (the menu shows only
    the pages a user can use; every view and service still checks for itself)."""
    return bool(getattr(user, "is_authenticated", False)) and right in rights_of(getattr(user, "role", ""))
