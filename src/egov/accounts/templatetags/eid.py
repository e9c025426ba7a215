"""``{% eid_button %}``: the national eID sign-in button, shown only when a provider is configured. For a signed-in
citizen at level 1 it offers to verify the account with the eID instead (raising it to level 2)."""
from django import template

from egov.accounts import eid
from egov.accounts.models import AssuranceLevel

register = template.Library()


@register.inclusion_tag("accounts/_eid_button.html", takes_context=True)
def eid_button(context, next_url: str = ""):
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    link = signed_in and not user.is_officer and user.assurance_level < AssuranceLevel.VERIFIED
    return {"enabled": eid.configured() is not None and (not signed_in or link), "link": link, "next": next_url}
