"""Finding procedures (tra cứu thủ tục hành chính): the search page and the procedure page, for citizens.

Both pages are plain GET pages that work without JavaScript. Views stay thin: the search form checks the filters
(a bad value gets a message naming it, never a 500), ``procedures.queries`` reads, the templates render in plain
Vietnamese. Applying online is another page (``/apply/<code>/``); this module only links to it.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from egov.accounts.models import AssuranceLevel
from egov.accounts.rules import meets_assurance
from egov.kernel import money
from egov.portal.templatetags.catalogue_text import CATALOGUE_LANGUAGE, page_in_catalogue_language
from egov.procedures import queries
from egov.procedures.catalogue import CODE
from egov.procedures.models import LifeEvent, OnlineLevel

APPLY_URL = "/apply/{code}/"  # the online application flow (its own page); linked to, never imported


def vnd(amount: int) -> str:
    """50000 -> "50.000 đồng": Vietnamese groups thousands with dots."""
    return _("%(amount)s đồng") % {"amount": money.group_thousands(amount)}


def working_days(days: Decimal) -> str:
    number = format(Decimal(days).normalize(), "f").replace(".", ",")
    return _("%(days)s working days") % {"days": number} if days != 1 else _("1 working day")


# --- Search ----------------------------------------------------------------------------------------------------------

QUERY_MAX_LENGTH = 200
FILTERS = ("life_event", "sector", "agency", "province")
FILTER_LABELS = {
    "life_event": gettext_lazy("Life event"),
    "sector": gettext_lazy("Sector"),
    "agency": gettext_lazy("Agency"),
    "province": gettext_lazy("Province or city"),
}
UNKNOWN_VALUE = {
    "life_event": gettext_lazy("“%(value)s” is not a life event of the list: choose one from it."),
    "sector": gettext_lazy("There is no sector “%(value)s” in the catalogue: choose one from the list."),
    "agency": gettext_lazy("No procedure is handled by an agency with the code “%(value)s”: choose one from the "
                           "list."),
    "province": gettext_lazy("There is no province with the code “%(value)s”: choose one from the list."),
}


def parse_filters(params, choices: queries.SearchChoices) -> tuple[dict[str, str], dict[str, str]]:
    """The search's filters from the query string, and a message per bad one (the value is named, never a 500).

    Checked by hand rather than with a Django form: the lists hold a few hundred choices, and a form re-normalised
    and re-rendered them on every search, the portal's busiest page."""
    values = {name: params.get(name, "").strip() for name in ("q", *FILTERS, "after")}
    errors = {}
    if len(values["q"]) > QUERY_MAX_LENGTH:
        errors["q"] = _("Type at most %(limit)d characters.") % {"limit": QUERY_MAX_LENGTH}
    allowed = {"life_event": LifeEvent.values, "sector": choices.sector_set, "agency": choices.agency_set,
               "province": choices.province_set}
    for name in FILTERS:
        if values[name] and values[name] not in allowed[name]:
            errors[name] = UNKNOWN_VALUE[name] % {"value": values[name]}
    if values["after"] and not CODE.match(values["after"]):
        errors["after"] = _("This results page does not exist: start the search again.")
    return values, errors


def _option_parts(choices: queries.SearchChoices, name: str) -> list[tuple[str, str, str]]:
    """(value, opening tag, rest) of each option, escaped once per choice list and language (kept with the list)."""
    key = (name, get_language())
    parts = choices.rendered.get(key)
    if parts is None:
        pairs = {"life_event": LifeEvent.choices, "sector": [(sector, sector) for sector in choices.sectors],
                 "agency": choices.agencies, "province": choices.provinces}[name]
        parts = [(str(value), f'<option value="{html.escape(str(value))}"', f">{html.escape(str(label))}</option>")
                 for value, label in [("", _("Any")), *pairs]]
        choices.rendered[key] = parts
    return parts


def _filters_html(choices: queries.SearchChoices, values: dict[str, str], errors: dict[str, str]) -> str:
    """The drop-down filters, each with its label and its error, written here: Django's widget templates (and even
    a template loop over the four fields) cost a template render per option and per field, most of the search
    page's time with a few hundred options. Every value is escaped (the options once per list and language)."""
    fields = []
    for name in FILTERS:
        chosen = values[name]
        options = "".join(f"{opening} selected{rest}" if value == chosen else f"{opening}{rest}"
                          for value, opening, rest in _option_parts(choices, name))
        field_id, label = f"id_{name}", html.escape(str(FILTER_LABELS[name]))
        error = errors.get(name)
        if error:
            fields.append(f'<div class="field field-error"><label for="{field_id}">{label}</label>'
                          f'<p class="message message-error" id="{field_id}_error">{html.escape(str(error))}</p>'
                          f'<select name="{name}" id="{field_id}" aria-invalid="true" '
                          f'aria-describedby="{field_id}_error">{options}</select></div>')
        else:
            fields.append(f'<div class="field"><label for="{field_id}">{label}</label>'
                          f'<select name="{name}" id="{field_id}">{options}</select></div>')
    return mark_safe("\n".join(fields))  # noqa: S308 - every value is escaped above


def _results_html(hits: list[queries.SearchHit]) -> str:
    """The result list's items, written here once per page: a template loop with a tag per fact and per row was most
    of the search page's time. Every value is escaped."""
    url = reverse("portal:procedure_detail", kwargs={"code": "0.000000"}).replace("0.000000", "{code}")
    code_label, not_in_force, free = _("Code"), _("Not yet in force"), _("Free")
    lang = "" if page_in_catalogue_language() else f' lang="{CATALOGUE_LANGUAGE}"'  # names are Vietnamese text
    online = {value: str(label) for value, label in OnlineLevel.choices}
    durations, fees = {}, {}  # a page repeats a few durations and fees: each is translated and formatted once
    items = []
    for hit in hits:
        facts = [html.escape(f"{code_label} {hit.code}"), f"<span{lang}>{html.escape(hit.sector)}</span>"
                 if lang else html.escape(hit.sector)]
        if hit.online_level is None:
            facts.append(html.escape(not_in_force))
        else:
            if hit.duration_days not in durations:
                durations[hit.duration_days] = working_days(hit.duration_days)
            if hit.total_fee not in fees:
                fees[hit.total_fee] = vnd(hit.total_fee) if hit.total_fee else free
            facts += [html.escape(online.get(hit.online_level, hit.online_level)),
                      html.escape(durations[hit.duration_days]), html.escape(fees[hit.total_fee])]
        items.append(f'<li><h3{lang}><a href="{html.escape(url.format(code=hit.code))}">{html.escape(hit.name)}</a>'
                     f"</h3><p>{' · '.join(facts)}</p></li>")
    return mark_safe("\n".join(items))  # noqa: S308 - every value is escaped above


def procedure_search(request):
    """Tra cứu thủ tục: GET /procedures/?q=…&life_event=…&sector=…&agency=…&province=…&after=…"""
    choices = queries.search_choices()
    values, errors = parse_filters(request.GET, choices)
    context = {"values": values, "errors": errors, "filters": _filters_html(choices, values, errors),
               "life_events": LifeEvent.choices, "current_life_event": values["life_event"],
               "query_max_length": QUERY_MAX_LENGTH}
    if errors:
        return render(request, "portal/catalogue/search.html", context, status=400)
    page = queries.find_procedures(text=values["q"], sector=values["sector"], life_event=values["life_event"],
                                     agency_code=values["agency"], province_code=values["province"],
                                     after=values["after"], on=timezone.localdate())
    kept = {key: value for key, value in values.items() if value and key != "after"}
    context.update({
        "results": _results_html(page.procedures),
        "total": page.total,
        "more": page.more,
        "next_url": f"{request.path}?{urlencode({**kept, 'after': page.next_after})}" if page.next_after else "",
        "first_url": f"{request.path}?{urlencode(kept)}".rstrip("?") if values["after"] else "",
        "life_event_label": dict(LifeEvent.choices).get(values["life_event"], "") if values["life_event"] else "",
    })
    return render(request, "portal/catalogue/search.html", context)


# --- The procedure page ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComponentRow:
    name: str
    required: bool
    reuse_code: str
    reuse_name: str
    optional_note: bool = False  # "(nếu có)" after the name: optional, and the name does not say so already
    template_url: str = ""       # where its blank form is downloaded, when there is one
    eform: bool = False          # the declaration that applying online fills in (tờ khai điện tử)


BLANK_FORMS_DIR = "procedures/forms/"  # static files: the blank forms that components name by file name


def blank_form_url(template: str) -> str:
    """Where a component's blank form (its catalogue ``template``) is downloaded: the catalogue's own http(s) URL, or
    the static file of that name under ``procedures/forms/``; "" when there is none (the demo catalogue names forms
    such as ``CT01.docx`` that the platform does not ship)."""
    template = (template or "").strip()
    if template.startswith(("https://", "http://")):
        return template
    if not template or "/" in template or "\\" in template or template.startswith("."):
        return ""
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    return static(BLANK_FORMS_DIR + template) if finders.find(BLANK_FORMS_DIR + template) else ""


def says_optional(name: str) -> bool:
    """Whether a component's name already says it is needed only if the applicant has it ("… (nếu có)"), so the
    page does not say it a second time."""
    import unicodedata

    folded = unicodedata.normalize("NFC", " ".join((name or "").lower().split()))
    return "(nếu có)" in folded or f"({_('if you have it')})".lower() in folded


def component_row(component: dict, names: dict, *, online: bool = False) -> ComponentRow:
    required = bool(component.get("required", True))
    return ComponentRow(component["name"], required, component.get("result_of", ""),
                        names.get(component.get("result_of", ""), ""),
                        optional_note=not required and not says_optional(component["name"]),
                        template_url=blank_form_url(component.get("template", "")),
                        eform=bool(component.get("eform")) and online)


@dataclass(frozen=True)
class FeeRow:
    name: str
    amount: str


def fee_text(fee: dict) -> str:
    """What a fee costs, as the procedure page says it: its amount, or for a fee that counts copies or pages
    (payments.rules.fee_line) what each further one adds, and what multiplies it."""
    amount = int(fee.get("amount") or 0)
    if not fee.get("per"):
        text = vnd(amount)
    else:
        each = {"each": vnd(int(fee.get("unit_amount") or 0)), "unit": fee.get("unit") or "",
                "included": int(fee.get("included") or 0)}
        if amount and each["included"]:
            text = _("%(amount)s for the first %(included)s %(unit)s, then %(each)s for each further one") % {
                **each, "amount": vnd(amount)}
        elif each["included"]:
            text = _("%(each)s for each %(unit)s after the first %(included)s") % each
        else:
            text = _("%(amount)s, then %(each)s for each %(unit)s") % {**each, "amount": vnd(amount)} if amount \
                else _("%(each)s for each %(unit)s") % each
    if fee.get("times"):
        text = _("%(text)s, for each %(unit)s") % {"text": text, "unit": fee.get("times_unit") or ""}
    return text


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
            "components": [component_row(c, names, online=version.offered_online) for c in version.components],
            "fees": [FeeRow(fee["name"], fee_text(fee)) for fee in version.fees],
            "total_fee": vnd(version.total_fee) if version.total_fee else "",
            "duration": working_days(version.duration_days),
            "online": version.offered_online,
            "full_online": version.online_level == OnlineLevel.FULL,
            "assurance": AssuranceLevel(version.min_assurance_level).label
            if version.min_assurance_level in AssuranceLevel.values else str(version.min_assurance_level),
            "apply_url": APPLY_URL.format(code=procedure.code),
            # Signed in below the level the procedure needs: the apply flow would refuse them; the page sends them to
            # verify their identity first (anonymous visitors follow "Apply online" to sign in).
            "verify_url": reverse("accounts:verify_identity") if request.user.is_authenticated
            and not meets_assurance(request.user.assurance_level, version.min_assurance_level) else "",
            "agencies": list(version.agencies.all()),
            "on_behalf_online": version.open_to_applying_for_others,
        })
    return render(request, "portal/catalogue/detail.html", context)
