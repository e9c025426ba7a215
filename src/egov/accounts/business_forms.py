"""Forms of the business account pages. Forms parse input; the decisions are in ``business_services``."""
from django import forms
from django.utils.translation import gettext_lazy as _


class OpenBusinessAccountForm(forms.Form):
    enterprise_code = forms.CharField(
        label=_("Enterprise code"), max_length=40, strip=True,
        help_text=_("The enterprise's 10-digit tax code, as on its business registration certificate, e.g. "
                    "0100109106."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class AuthoriseStaffForm(forms.Form):
    staff = forms.CharField(
        label=_("Username or email address"), max_length=254, strip=True,
        help_text=_("The person's own egov account, with their identity verified (level 2)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
