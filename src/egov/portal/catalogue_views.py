"""Finding procedures (tra cứu thủ tục hành chính): the search page and the procedure page, for citizens.

Both pages are plain GET pages that work without JavaScript. Views stay thin: the search form checks the filters
(a bad value gets a message naming it, never a 500), ``procedures.queries`` reads, the templates render in plain
Vietnamese. Applying online is another page (``/apply/<code>/``); this module only links to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from egov.accounts.models import AssuranceLevel
from egov.procedures import queries
from egov.procedures.catalogue import CODE
from egov.procedures.models import LifeEvent, OnlineLevel

APPLY_URL = "/apply/{code}/"  # the online application flow (its own page); linked to, never imported


def vnd(amount: int) -> str:
    """50000 -> "50.000 đồng": Vietnamese groups thousands with dots."""
    return _("%(amount)s đồng") % {"amount": f"{int(amount):,}".replace(",", ".")}


def working_days(days: Decimal) -> str:
    number = format(Decimal(days).normalize(), "f").replace(".", ",")
    return _("%(days)s working days") % {"days": number} if days != 1 else _("1 working day")


# --- Search ----------------------------------------------------------------------------------------------------------

class SearchForm(forms.Form):
    """The search page's filters; choices come from the catalogue, so a value not in a list is refused by name."""

    q = forms.CharField(label=gettext_lazy("Procedure name or code"), max_length=200, required=False,
                        help_text=gettext_lazy("You may type without accents, e.g. dang ky khai sinh"),
                        error_messages={"max_length": gettext_lazy("Type at most %(limit_value)d characters.")})
    life_event = forms.ChoiceField(label=gettext_lazy("Life event"), required=False, error_messages={
        "invalid_choice": gettext_lazy("“%(value)s” is not a life event of the list: choose one from it.")})
    sector = forms.ChoiceField(label=gettext_lazy("Sector"), required=False, error_messages={
        "invalid_choice": gettext_lazy("There is no sector “%(value)s” in the catalogue: choose one from the list.")})
    agency = forms.ChoiceField(label=gettext_lazy("Agency"), required=False, error_messages={
        "invalid_choice": gettext_lazy("No procedure is handled by an agency with the code “%(value)s”: choose one "
                                       "from the list.")})
    province = forms.ChoiceField(label=gettext_lazy("Province or city"), required=False, error_messages={
        "invalid_choice": gettext_lazy("There is no province with the code “%(value)s”: choose one from the list.")})
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data, choices: queries.SearchChoices):
        super().__init__(data)
        any_choice = [("", _("Any"))]
        self.fields["life_event"].choices = any_choice + list(LifeEvent.choices)
        self.fields["sector"].choices = any_choice + [(sector, sector) for sector in choices.sectors]
        self.fields["agency"].choices = any_choice + list(choices.agencies)
        self.fields["province"].choices = any_choice + list(choices.provinces)

    def clean_after(self):
        after = self.cleaned_data["after"].strip()
        if after and not CODE.match(after):
            raise forms.ValidationError(_("This results page does not exist: start the search again."))
        return after


@dataclass(frozen=True)
class ResultRow:
    code: str
    name: str
    sector: str
    online: str
    online_level: str
    duration: str
    fee: str


def _row(procedure) -> ResultRow:
    version = procedure.current
    if version is None:
        return ResultRow(procedure.code, procedure.name, procedure.sector, _("Not yet in force"), "", "", "")
    fee = version.total_fee
    return ResultRow(procedure.code, procedure.name, procedure.sector, version.get_online_level_display(),
                     version.online_level, working_days(version.duration_days), vnd(fee) if fee else _("Free"))


def procedure_search(request):
    """Tra cứu thủ tục: GET /procedures/?q=…&life_event=…&sector=…&agency=…&province=…&after=…"""
    form = SearchForm(request.GET or None, queries.search_choices())
    context = {"form": form, "life_events": LifeEvent.choices, "searched": bool(request.GET)}
    if request.GET and not form.is_valid():
        errors = [str(error) for field in form for error in field.errors] + list(form.non_field_errors())
        context["filter_errors"] = errors
        return render(request, "portal/catalogue/search.html", context, status=400)
    filters = form.cleaned_data if request.GET else {"q": "", "life_event": "", "sector": "", "agency": "",
                                                     "province": "", "after": ""}
    page = queries.search_procedures(text=filters["q"], sector=filters["sector"], life_event=filters["life_event"],
                                     agency_code=filters["agency"], province_code=filters["province"],
                                     after=filters["after"], on=timezone.localdate())
    kept = {key: value for key, value in filters.items() if value and key != "after"}
    context.update({
        "rows": [_row(procedure) for procedure in page.procedures],
        "total": page.total,
        "next_url": f"{request.path}?{urlencode({**kept, 'after': page.next_after})}" if page.next_after else "",
        "first_url": f"{request.path}?{urlencode(kept)}".rstrip("?") if filters["after"] else "",
        "life_event_label": dict(LifeEvent.choices).get(filters["life_event"], ""),
    })
    return render(request, "portal/catalogue/search.html", context)


# --- The procedure page ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComponentRow:
    name: str
    required: bool
    reuse_code: str
    reuse_name: str


@dataclass(frozen=True)
class FeeRow:
    name: str
    amount: str


def procedure_detail(request, code: str):
    """Trang thủ tục: what a citizen needs to know before applying, in plain words."""
    found = queries.procedure_page(code, timezone.localdate())
    if found is None:
        raise Http404(_("There is no procedure with the code “%(code)s”.") % {"code": code})
    procedure, version = found
    context = {"procedure": procedure, "version": version,
               "life_events": [LifeEvent(key).label for key in procedure.life_event_keys()]}
    if version is not None:
        reused = [c["result_of"] for c in version.components if c.get("result_of")]
        names = queries.procedure_names(reused)
        context.update({
            "components": [ComponentRow(c["name"], bool(c.get("required", True)), c.get("result_of", ""),
                                        names.get(c.get("result_of", ""), "")) for c in version.components],
            "fees": [FeeRow(fee["name"], vnd(fee["amount"])) for fee in version.fees],
            "total_fee": vnd(version.total_fee) if version.total_fee else "",
            "duration": working_days(version.duration_days),
            "online": version.online_level != OnlineLevel.NONE,
            "full_online": version.online_level == OnlineLevel.FULL,
            "assurance": AssuranceLevel(version.min_assurance_level).label
            if version.min_assurance_level in AssuranceLevel.values else str(version.min_assurance_level),
            "apply_url": APPLY_URL.format(code=procedure.code),
            "agencies": list(version.agencies.all()),
        })
    return render(request, "portal/catalogue/detail.html", context)
