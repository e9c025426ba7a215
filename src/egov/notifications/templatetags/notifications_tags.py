from django import template

from egov.notifications import queries

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:
    """How many unread notices the signed-in account has (0 for anyone else)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return queries.unread_count(user)
