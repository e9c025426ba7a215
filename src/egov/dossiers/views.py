"""Web pages of the one-stop back office (bộ phận một cửa) and the applicant's own dossier page.

Views stay thin: parse the form, call ONE service, redirect back with a message, or render the error:
``TransitionRefused`` → 409 page with the reason, ``NotAllowed`` → 403, ``InvalidInput`` → the form again with its
errors (400), nothing typed lost.

Back office (officers, signed in with TOTP, only their agency's dossiers):
- ``inbox``: counts per status, filters (status, procedure, near deadline, overdue), keyset pages (``after``).
- ``intake``: a walk-in (channel 1) or postal (channel 3) dossier: choose the procedure, then the form.
- ``detail`` and ``action``: everything about one dossier, and the buttons allowed now (``queries.actions_for``),
  each a ``POST /backoffice/dossiers/<code>/<action>/``.
- ``form_pdf``, ``attachment``: the issued documents (forms 01–06) and the files.
- ``book``: the tracking book (form 07), filterable, as a page, CSV or PDF.

Applicant (``/dossiers/``: my dossiers, newest first; ``/dossiers/<code>/``): status, a timeline in plain words, the
deadline clock with its pauses and steps, documents; answer a supplement request; ask to withdraw; download the result
once delivered; rate the service once processing has ended.
"""
import html
from functools import lru_cache, wraps
from urllib.parse import urlencode

from django import forms as dj_forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from egov.kernel.paging import row_id
from egov.accounts.views import denied, officer_required
from egov.dossiers import applicant_queries, forms, queries, rules, services
from egov.dossiers.models import Attachment, Status

FORMS = services.FORMS
FORM_TITLES = {**{form: rules.DOCUMENT_LABELS[form] for form in ("01", "02", "03", "04", "05", "06")},
               rules.EFORM_DECLARATION: _("Declaration made from the e-form")}
FLAGS = {"near_deadline": _("Near the deadline"), "overdue": _("Overdue")}


class Action:
    """One button of the dossier page: its form, and the service it calls (``officer=`` unless ``as_user``; a form
    may choose another service for what was chosen in it: its ``service()``)."""

    def __init__(self, name, label, form_class, service, *, as_user=False, danger=False):
        self.name, self.label, self.form_class, self.service = name, label, form_class, service
        self.as_user, self.danger = as_user, danger

    def call(self, dossier, user, form):
        actor = {"user": user} if self.as_user else {"officer": user}
        service = getattr(form, "service", lambda: None)() or self.service
        return getattr(services, service)(dossier.pk, **actor, **form.arguments())


ACTIONS = {action.name: action for action in [
    Action("receive", _("Receive the dossier"), forms.ReceiveForm, "receive"),
    Action("refuse", _("Refuse to receive"), forms.RefuseForm, "refuse", danger=True),
    Action("request-supplement", _("Request a supplement"), forms.SupplementRequestForm, "request_supplement"),
    Action("supply", _("Record the supplement (on the applicant's behalf)"), forms.SupplyForm, "supply",
           as_user=True),
    Action("transfer", _("Transfer to the competent unit"), forms.TransferForm, "transfer"),
    Action("complete-step", _("Complete this step"), forms.CompleteStepForm, "complete_step"),
    Action("request-fees", _("Request fees or taxes"), forms.RequestFeesForm, "request_fees"),
    Action("record-payment", _("Record the payment"), forms.RecordPaymentForm, "record_payment"),
    Action("apologise", _("Apologise and set a new date"), forms.ApologyForm, "apologise"),
    Action("confirm-withdrawal", _("Confirm the withdrawal"), forms.ConfirmWithdrawalForm, "confirm_withdrawal"),
    Action("refuse-withdrawal", _("Refuse the withdrawal"), forms.RefuseWithdrawalForm, "refuse_withdrawal"),
    Action("stop", _("Stop processing"), forms.StopForm, "stop", danger=True),
    Action("attach-result", _("Save draft result"), forms.AttachResultForm, "save_draft_result"),
    Action("sign-result", _("Sign and issue the result"), forms.SignResultForm, "sign_result"),
    Action("deliver", _("Deliver the result"), forms.DeliverForm, "deliver"),
]}


def backoffice_required(view):
    """Signed-in officer who passed TOTP (``officer_required``) and belongs to an agency."""

    @wraps(view)
    @officer_required
    def wrapper(request, *args, **kwargs):
        if not request.user.agency_id:
            return denied(request, _("Your account does not belong to any agency."))
        return view(request, *args, **kwargs)

    return wrapper


def _refused(request, dossier, reason):
    return render(request, "dossiers/refused.html", {"dossier": dossier, "reason": reason}, status=409)


def _dossier_for_officer(request, code):
    """The dossier if the officer's agency received it; another agency's is 404, as if it did not exist."""
    return queries.for_officer(request.user, code)


# --- Inbox -----------------------------------------------------------------------------------------------------------

def _procedure_choices(agency_id: int) -> list[tuple[int, str]]:
    """(procedure id, "code – name") of the procedures the agency implements today (kept a minute)."""
    return list(queries.agency_facts(agency_id).procedures)


@never_cache
@backoffice_required
@require_GET
def inbox(request):
    """Hồ sơ của đơn vị: the agency's dossiers, with counts per status, filters and flags, newest first."""
    officer = request.user
    procedures = _procedure_choices(officer.agency_id)
    status = row_id(request.GET.get("status"))
    status = status if status in Status.values else None
    procedure = row_id(request.GET.get("procedure"))
    procedure = procedure if procedure in {pk for pk, _name in procedures} else None
    flag = request.GET.get("flag") or None
    flag = flag if flag in FLAGS else None
    mine = request.GET.get("mine") == "1"
    after_id = row_id(request.GET.get("after"))
    page = queries.inbox(officer, status=status, procedure_id=procedure, flag=flag, mine=mine, after_id=after_id)
    filters = {"status": status, "procedure": procedure, "flag": flag, "mine": "1" if mine else None}
    base = reverse("backoffice:inbox")
    context = {
        "agency_name": queries.agency_facts(officer.agency_id).name, "rows": _inbox_rows_html(page),
        "tabs": _inbox_tabs_html(page.counts, filters, base),
        "filters_form": _inbox_filters_html(get_language(), base, tuple(filters.values()), tuple(procedures)),
        "filters": filters,
        "next_url": _inbox_url(base, after=page.next_after_id, **filters) if page.next_after_id else None,
        "first_url": _inbox_url(base, **filters) if after_id else None,
    }
    return render(request, "dossiers/inbox.html", context)


def _inbox_tabs_html(counts: dict[int, int], filters: dict, base: str) -> str:
    """The status tabs with their counts ("Open" first, then each status that has dossiers or is chosen), written
    here like the rows: a template loop with a lookup chain per tab was a tenth of the page's time."""
    current = filters["status"]
    open_total = sum(counts.get(value, 0) for value in queries.OPEN_STATUSES)
    here = ' aria-current="page"'
    items = [f'<li><a href="{html.escape(_inbox_url(base, **{**filters, "status": None}))}"'
             f'{here if current is None else ""}>{html.escape(gettext("Open"))} <span class="count">{open_total}</span></a></li>']
    for value, label in Status.choices:
        count = counts.get(value, 0)
        if count or value == current:
            items.append(f'<li><a href="{html.escape(_inbox_url(base, **{**filters, "status": value}))}"'
                         f'{here if value == current else ""}>{html.escape(str(label))} <span class="count">{count}</span>'
                         f"</a></li>")
    return mark_safe(  # noqa: S308 - every value is escaped
        f'<nav class="tabs" aria-label="{html.escape(gettext("Dossiers by status"))}">\n  <ul>\n    '
        + "\n    ".join(items) + "\n  </ul>\n</nav>")


def _options_html(choices, chosen, empty_label: str) -> str:
    selected = " selected"
    return f'<option value="">{html.escape(empty_label)}</option>' + "".join(
        f'<option value="{html.escape(str(value))}"{selected if value == chosen else ""}>{html.escape(str(label))}</option>'
        for value, label in choices)


@lru_cache(maxsize=512)
def _inbox_filters_html(language: str, base: str, chosen: tuple, procedures: tuple) -> str:
    """The filter form (status, procedure, deadline flag, only mine), written here: a template loop per option over
    the agency's procedures was a fifth of the page's time; and kept per language, chosen values and procedures
    (most pages show an agency's unfiltered form). Every value is escaped."""
    filters = dict(zip(("status", "procedure", "flag", "mine"), chosen, strict=True))
    fields = [
        ("filter-status", "status", gettext("Status"), _options_html(Status.choices, filters["status"], gettext("All statuses"))),
        ("filter-procedure", "procedure", gettext("Procedure"),
         _options_html(procedures, filters["procedure"], gettext("All procedures"))),
        ("filter-flag", "flag", gettext("Deadline"), _options_html(FLAGS.items(), filters["flag"], gettext("Any"))),
    ]
    parts = [f'<form method="get" action="{html.escape(base)}" class="filters">']
    parts += [f'  <div class="field">\n    <label for="{field_id}">{html.escape(label)}</label>\n'
              f'    <select id="{field_id}" name="{name}">\n      {options}\n    </select>\n  </div>'
              for field_id, name, label, options in fields]
    parts.append('  <div class="field field-checkbox"><div class="choice"><input type="checkbox" id="filter-mine" '
                 f'name="mine" value="1"{" checked" if filters["mine"] else ""}><label for="filter-mine">'
                 f'{html.escape(gettext("Only mine"))}</label></div></div>')
    parts.append(f'  <p><button type="submit">{html.escape(gettext("Show"))}</button></p>\n</form>')
    return mark_safe("\n".join(parts))  # noqa: S308 - every value is escaped


def _when(value, missing: str = "—", zone=None) -> str:
    """An instant as the tables show it: day/month/year hour:minute in Vietnam's zone (``zone``: the current zone,
    looked up once by a caller writing many rows)."""
    if not value:
        return missing
    return (value.astimezone(zone) if zone else timezone.localtime(value)).strftime("%d/%m/%Y %H:%M")


@lru_cache(maxsize=8)
def _status_labels_escaped(language: str) -> dict[int, str]:
    """Each status's label in ``language`` (the active one), escaped: the lists show one per row."""
    return {value: html.escape(str(label)) for value, label in Status.choices}


def _inbox_rows_html(page: queries.InboxPage) -> str:
    """The inbox's table rows, written here: the template's loop, a url tag, two date filters and a lookup chain per
    row, was half of the page's time. Every value is escaped; times in Vietnam's zone like the template's filter."""
    url = reverse("backoffice:detail", kwargs={"code": "CODE"}).replace("CODE", "{code}")
    labels = _status_labels_escaped(get_language())
    zone = timezone.get_current_timezone()
    badges = {"overdue": f'<span class="badge badge-overdue">{html.escape(str(_("Overdue")))}</span>',
              "near_deadline": f'<span class="badge badge-near">{html.escape(str(_("Near the deadline")))}</span>'}
    procedures = {}  # a page repeats a few procedures: each escaped once

    lines = []
    for row in page.rows:
        flag = "overdue" if row.id in page.overdue_ids else "near_deadline" if row.id in page.near_ids else ""
        key = (row.procedure_code, row.procedure_name)
        procedure = procedures.get(key)
        if procedure is None:
            procedure = procedures[key] = f"{html.escape(row.procedure_code)} {html.escape(row.procedure_name)}"
        code = html.escape(row.code)
        lines.append(
            f'<tr{f" class=\"flag-{flag}\"" if flag else ""}>'
            f'<td><a href="{url.format(code=code)}">{code}</a></td>'
            f"<td>{procedure}</td>"
            f"<td>{labels.get(row.status) or row.status}</td>"
            f"<td>{_when(row.received_at, zone=zone)}</td><td>{_when(row.appointment_at, zone=zone)}</td>"
            f"<td>{badges.get(flag, '')}</td></tr>")
    return mark_safe("\n".join(lines))  # noqa: S308 - every value is escaped above




def _inbox_url(base: str | None = None, **params) -> str:
    """The inbox with these filters; ``base``: its path reversed once by the caller (a dozen links per page)."""
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    return (base or reverse("backoffice:inbox")) + (f"?{query}" if query else "")


# --- Intake at the desk ------------------------------------------------------------------------------------------

@never_cache
@backoffice_required
def intake(request):
    """Tiếp nhận hồ sơ trực tiếp hoặc qua bưu chính: step 1 chooses the procedure (GET), step 2 is its form."""
    officer = request.user
    versions = forms.current_versions(officer.agency)
    source = request.POST if request.method == "POST" else request.GET
    chooser = forms.ChooseProcedureForm(source if "version" in source else None, versions=versions)
    version = chooser.chosen() if chooser.is_bound else None
    if version is None:
        return render(request, "dossiers/intake_choose.html", {"chooser": chooser, "versions": versions},
                      status=400 if chooser.is_bound else 200)
    form = forms.IntakeForm(request.POST or None, request.FILES or None, version=version)
    if request.method == "POST" and forms.SHOW_COMMUNES in request.POST:
        # The commune picker without JavaScript: the same form again, as typed, with the chosen province's communes;
        # nothing checked yet. Files cannot be sent back to a browser: the officer chooses them again.
        form = forms.IntakeForm(initial=request.POST.dict(), version=version)
        forms.keep_chosen_provinces(form, request.POST)
        return render(request, "dossiers/intake.html", {
            "form": form, "version": version, "chooser": chooser,
            "choose_again": [form[name].label for name in request.FILES if name in form.fields]})
    if request.method == "POST":
        # The second button prints the declaration to sign from the answers typed; the scans come after it.
        printing = forms.PRINT_DECLARATION in request.POST
        if printing:
            form.scans_come_later()
        if form.is_valid():
            arguments = form.service_arguments()
            try:
                if printing:
                    del arguments["files"]
                    download = services.declaration_to_sign(officer=officer, **arguments)
                else:
                    dossier = services.intake_at_desk(officer=officer, **arguments)
            except services.InvalidInput as exc:
                form.show_service_error(exc)
            except services.NotAllowed as exc:
                return denied(request, str(exc))
            except services.TransitionRefused as exc:
                return _refused(request, None, exc.reason)
            else:
                if printing:
                    # A download, not a page: the browser stays on the intake form, with everything typed and every
                    # file chosen, while the applicant signs.
                    response = HttpResponse(download.content, content_type="application/pdf")
                    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
                    return response
                messages.success(request, gettext("Dossier %(code)s is received. Form 01 (receipt and appointment slip) "
                                                  "is ready to print.") % {"code": dossier.code})
                return redirect("backoffice:detail", code=dossier.code)
    context = {"form": form, "version": version, "chooser": chooser,
               "choose_again": form.files_to_choose_again() if form.errors else []}
    return render(request, "dossiers/intake.html", context, status=400 if form.errors else 200)


# --- One dossier ---------------------------------------------------------------------------------------------------

@never_cache
@backoffice_required
@require_GET
def detail(request, code):
    try:
        dossier = _dossier_for_officer(request, code)
    except services.NotAllowed as exc:
        return denied(request, str(exc))
    return _render_detail(request, dossier)


def _render_detail(request, dossier, *, bound=None, status=200):
    """The dossier page; ``bound`` is the action form sent back with its errors (its section is opened)."""
    allowed = queries.actions_for(request.user, dossier)
    actions = []
    for name in allowed:
        action = ACTIONS.get(name)
        if action is None:
            continue
        form = bound if bound is not None and bound.prefix == name else action.form_class(dossier=dossier,
                                                                                        officer=request.user)
        actions.append({"name": name, "label": action.label, "form": form, "danger": action.danger,
                        "url": reverse("backoffice:action", kwargs={"code": dossier.code, "action": name}),
                        "open": bound is not None and bound.prefix == name})
    services.log_read(dossier, reader=request.user, purpose="back office: dossier page")
    context = _dossier_context(dossier)
    clock = queries.clock(dossier)
    steps = [{"step": step, "verdict": rules.VERDICT_LABELS.get(step.verdict, "")} for step in clock.steps]
    context.update({"actions": actions, "clock": clock, "steps": steps, "open_steps": queries.open_steps(dossier),
                    "history": queries.history(dossier),
                    "awaiting_signature": services.processing_finished(dossier),
                    "verdict": rules.VERDICT_LABELS.get(clock.verdict, ""),
                    "bound": bound, "backoffice": True})
    return render(request, "dossiers/detail.html", context, status=status)


def _dossier_context(dossier) -> dict:
    """What both sides show: the content in clear, the answers labelled, the files, the documents issued."""
    content = dossier.content()
    version = dossier.procedure_version
    answers = [(label, text) for _name, label, text in forms.answer_rows(version, content.get("form") or {})]
    components = {c.get("code"): c.get("name") for c in version.components or []}
    attachments = [{"attachment": a, "label": _attachment_label(a, components)} for a in dossier.attachments.all()]
    issued = sorted({t.form for t in dossier.transitions.all() if t.form in FORMS})
    if "06" not in issued and dossier.steps.exists():
        issued.append("06")
    filed = {a["attachment"].component_code for a in attachments
             if a["attachment"].kind == Attachment.Kind.COMPONENT}
    eform = dossier.declaration_from_answers(filed) if answers else None
    return {
        "dossier": dossier, "version": version, "applicant": _shown_person(content.get("applicant") or {}),
        "subject": _shown_person(content.get("subject")) or None, "answers": answers, "attachments": attachments,
        "documents": [(form, FORM_TITLES[form]) for form in issued],
        # Filed as the component it stands for, beside the files: the applicant wrote it, the agency did not issue it.
        "eform_declaration": eform,
    }


def _attachment_label(attachment, components: dict) -> str:
    """What a file is, as the lists name it: its component, else its kind (a replaced draft result says so)."""
    if attachment.kind == Attachment.Kind.DRAFT:
        return str(_("Draft result, replaced by a newer one") if attachment.component_code == Attachment.REPLACED_DRAFT
                   else _("Draft result (unsigned)"))
    return components.get(attachment.component_code) or attachment.get_kind_display()


def _shown_person(person: dict | None) -> dict:
    """A person's sealed details as the page shows them: the date of birth (kept as ISO text) as dd/mm/yyyy."""
    if not person:
        return {}
    return {**person, "date_of_birth": forms.iso_date_text(person["date_of_birth"]) if person.get("date_of_birth")
            else ""}


@backoffice_required
@require_POST
def action(request, code, action):
    """``POST /backoffice/dossiers/<code>/<action>/``: parse the action's form, call its service, redirect back."""
    try:
        dossier = _dossier_for_officer(request, code)
    except services.NotAllowed as exc:
        return denied(request, str(exc))
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404(gettext("There is no such action on a dossier."))
    form = spec.form_class(request.POST, request.FILES, dossier=dossier, officer=request.user)
    if form.is_valid():
        try:
            spec.call(dossier, request.user, form)
        except services.SigningFailed as exc:
            # The step is approved (its own transaction); only the signing failed: say so, and the page offers to
            # sign again.
            messages.error(request, gettext("The step is approved, but the result could not be signed: %(reason)s "
                                            "Sign the result again with “%(action)s” below.")
                           % {"reason": exc.reason, "action": ACTIONS["sign-result"].label})
            return redirect("backoffice:detail", code=dossier.code)
        except services.TransitionRefused as exc:
            return _refused(request, dossier, exc.reason)
        except services.NotAllowed as exc:
            return denied(request, str(exc))
        except services.InvalidInput as exc:
            form.show_service_error(exc)
        else:
            done = getattr(form, "done_label", lambda: None)() or spec.label
            messages.success(request, gettext("Done: %(action)s.") % {"action": done})
            return redirect("backoffice:detail", code=dossier.code)
    dossier.refresh_from_db()
    return _render_detail(request, dossier, bound=form, status=400)


@backoffice_required
@require_GET
def form_pdf(request, code, form):
    try:
        dossier = _dossier_for_officer(request, code)
    except services.NotAllowed as exc:
        return denied(request, str(exc))
    return _pdf_response(request, dossier, form)


def _pdf_response(request, dossier, form):
    if form not in FORMS:
        raise Http404(gettext("There is no form %(form)s: the one-stop forms are 01 to 06.") % {"form": form})
    try:
        download = services.form_pdf(dossier, form, reader=request.user)
    except services.TransitionRefused as exc:  # not issued to this dossier
        raise Http404(exc.reason) from None
    except services.NotAllowed as exc:
        return denied(request, str(exc))
    except services.InvalidInput as exc:
        raise Http404(" ".join(exc.messages)) from None
    response = HttpResponse(download.content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{download.filename}"'
    return response


@backoffice_required
@require_GET
def attachment(request, code, pk):
    try:
        dossier = _dossier_for_officer(request, code)
    except services.NotAllowed as exc:
        return denied(request, str(exc))
    response = _file_response(dossier.attachments.all(), pk)
    services.log_read(dossier, reader=request.user, purpose="file")
    return response


def _file_response(files, pk):
    """The file ``pk`` among ``files`` (what the reader may see), or 404."""
    item = files.filter(pk=pk).first()
    if item is None:
        raise Http404(gettext("This dossier has no such file."))
    return FileResponse(item.file.open("rb"), content_type=item.content_type, as_attachment=True,
                        filename=item.name)


# --- Tracking book (form 07) ---------------------------------------------------------------------------------------

BOOK_COLUMNS = [
    _("Dossier code"), _("Procedure"), _("Applicant"), _("Channel"), _("Received"), _("Appointment"),
    _("Processed"), _("Delivered"), _("Status"), _("Early / on time / late"),
]


@never_cache
@backoffice_required
@require_GET
def book(request):
    """Sổ theo dõi hồ sơ (form 07): the agency's dossiers of a period, filterable; CSV and PDF exports (the legal
    form, in Vietnamese)."""
    officer = request.user
    params = {key: value for key, value in request.GET.items() if key != "format"}
    form = forms.BookFilterForm(params, statuses=Status.choices, procedures=_procedure_choices(officer.agency_id))
    if not form.is_valid():
        return render(request, "dossiers/book.html", {"form": form, "rows": [], "columns": BOOK_COLUMNS},
                      status=400)
    data = form.cleaned_data
    dossiers = queries.tracking_book(officer, date_from=data["date_from"], date_to=data["date_to"],
                                     status=data["status"], procedure_id=data["procedure"])
    export = request.GET.get("format")
    services.log_reads(dossiers, reader=officer, purpose=f"tracking book {export or 'page'}")
    filename = f"so-theo-doi-ho-so-{data['date_from']:%Y%m%d}-{data['date_to']:%Y%m%d}"
    if export in ("csv", "pdf"):
        download = _book_export(officer, dossiers, data, export)
        response = HttpResponse(download, content_type="text/csv; charset=utf-8" if export == "csv"
                                else "application/pdf")
        disposition = "attachment" if export == "csv" else "inline"
        response["Content-Disposition"] = f'{disposition}; filename="{filename}.{export}"'
        return response
    rows = [_book_row(dossier) for dossier in dossiers]
    context = {"form": form, "rows": rows, "columns": BOOK_COLUMNS, "query": urlencode(params)}
    return render(request, "dossiers/book.html", context)


def _book_export(officer, dossiers, data, kind: str) -> bytes:
    """Form 07 as the law prints it (Vietnamese): CSV or PDF, rendered by ``documents`` from ``paperwork``'s rows."""
    from egov.dossiers import documents, paperwork

    rows = paperwork.book_rows(dossiers)
    if kind == "csv":
        return documents.tracking_book_csv(rows)
    return documents.form_07_tracking_book(paperwork.issuer(officer.agency), rows, period_from=data["date_from"],
                                           period_to=data["date_to"])


def _book_row(dossier) -> dict:
    """One line of the book on the page, in the reader's language."""
    verdict = ""
    if dossier.finished_at and dossier.appointment_at and dossier.status in (Status.RESULT_READY, Status.DELIVERED):
        verdict = rules.VERDICT_LABELS.get(rules.verdict(dossier.finished_at, dossier.appointment_at), "")
    applicant = (dossier.content().get("applicant") or {}).get("full_name", "")
    cells = [dossier.procedure_version.name, applicant, dossier.get_channel_display(), _when(dossier.received_at, ""),
             _when(dossier.appointment_at, ""), _when(dossier.finished_at, ""), _when(dossier.delivered_at, ""),
             dossier.get_status_display(), verdict]
    return {"code": dossier.code, "cells": cells}


# --- Applicant side ------------------------------------------------------------------------------------------------

def applicant_required(view):
    """The signed-in applicant of the dossier; anyone else gets 404 (whether a code exists is not revealed)."""

    @wraps(view)
    def wrapper(request, code, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        dossier = queries.for_applicant(request.user, code)  # someone else's dossier: 404
        return view(request, dossier, *args, **kwargs)

    return wrapper


APPLICANT_FORMS = ("01", "02", "03", "04", "05", rules.EFORM_DECLARATION)


class RatingForm(forms.ActionForm):
    """Đánh giá mức độ hài lòng: a score from 1 (very dissatisfied) to 5 (very satisfied) and a comment."""
    prefix_name = "rate"
    score = dj_forms.TypedChoiceField(
        label=_("How satisfied are you with how your dossier was handled?"), coerce=int, widget=dj_forms.RadioSelect,
        choices=[(5, _("5: very satisfied")), (4, _("4: satisfied")), (3, _("3: neither satisfied nor dissatisfied")),
                 (2, _("2: dissatisfied")), (1, _("1: very dissatisfied"))],
        error_messages={"required": _("Choose a satisfaction score from 1 to 5.")})
    comment = dj_forms.CharField(label=_("Comment"), required=False, max_length=2000,
                                 widget=dj_forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("What went well, what should be better."))
    service_fields = {"score": "score", "comment": "comment"}

    def arguments(self):
        return {"score": self.cleaned_data["score"], "comment": self.cleaned_data["comment"]}


@never_cache
@require_GET
def my_dossiers(request):
    """Hồ sơ của tôi: the signed-in user's dossiers, newest first, one key-paged page (``after``)."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    after = row_id(request.GET.get("after", "")) or None
    page = applicant_queries.my_dossiers(request.user, after_id=after)
    return render(request, "dossiers/my_dossiers.html", {"page": page, "dossiers": page.rows,
                                                         "rows": _my_rows_html(page.rows)})


def _my_rows_html(rows) -> str:
    """The list's rows, written here (a template loop per row was most of the page's time); escaped; times in
    Vietnam's zone."""
    url = reverse("dossiers:detail", kwargs={"code": "CODE"}).replace("CODE", "{code}")
    labels = _status_labels_escaped(get_language())
    zone = timezone.get_current_timezone()

    return mark_safe("".join(  # noqa: S308 - every value is escaped
        f'<tr><td><a href="{html.escape(url.format(code=row.code))}">{html.escape(row.code)}</a></td>'
        f"<td>{html.escape(row.procedure_name)}</td><td>{_when(row.submitted_at, zone=zone)}</td>"
        f'<td><strong class="status status-{int(row.status)}">{labels.get(row.status, "")}</strong></td>'
        f"<td>{_when(row.appointment_at, zone=zone)}</td></tr>" for row in rows))


@never_cache
@applicant_required
@require_GET
def my_dossier(request, dossier):
    return _render_my_dossier(request, dossier)


def _render_my_dossier(request, dossier, *, supply_form=None, withdraw_form=None, rating_form=None, status=200):
    from egov.dossiers.models import Rating

    context = _dossier_context(dossier)
    context["documents"] = [(form, title) for form, title in context["documents"] if form in APPLICANT_FORMS]
    visible = set(applicant_queries.visible_attachments(dossier).values_list("pk", flat=True))
    context["attachments"] = [a for a in context["attachments"] if a["attachment"].pk in visible]
    clock = queries.clock(dossier)
    rating = Rating.objects.filter(dossier=dossier).first()
    context.update({
        "may_supply": dossier.status == Status.SUPPLEMENT_REQUESTED,
        "may_withdraw": dossier.status in (Status.SUBMITTED, Status.RECEIVED, Status.PROCESSING,
                                           Status.SUPPLEMENT_REQUESTED, Status.FEES_DUE),
        "supply_form": supply_form or forms.SupplyForm(dossier=dossier),
        "withdraw_form": withdraw_form or forms.WithdrawForm(dossier=dossier),
        "clock": clock,
        "steps": [{"step": step, "verdict": rules.VERDICT_LABELS.get(step.verdict, "")} for step in clock.steps],
        "verdict": rules.VERDICT_LABELS.get(clock.verdict, ""),
        "timeline": applicant_queries.timeline(dossier),
        "supplement_request": applicant_queries.open_supplement_request(dossier),
        "result_waiting": dossier.status == Status.RESULT_READY,
        "rating": rating,
        "may_rate": rating is None and dossier.status in services.RATABLE_STATUSES,
        "rating_form": rating_form or RatingForm(dossier=dossier),
    })
    return render(request, "dossiers/my_dossier.html", context, status=status)


@applicant_required
@require_POST
def my_rate(request, dossier):
    form = RatingForm(request.POST, dossier=dossier)
    return _applicant_action(request, dossier, form, "rate", _("Thank you: your rating is recorded."),
                             rating_form=form)


@applicant_required
@require_POST
def my_supply(request, dossier):
    form = forms.SupplyForm(request.POST, request.FILES, dossier=dossier)
    return _applicant_action(request, dossier, form, "supply", _("Your supplement is sent."), supply_form=form)


@applicant_required
@require_POST
def my_withdraw(request, dossier):
    form = forms.WithdrawForm(request.POST, dossier=dossier)
    return _applicant_action(request, dossier, form, "request_withdrawal", _("Your request to withdraw is sent."),
                             withdraw_form=form)


def _applicant_action(request, dossier, form, service, success, **forms_back):
    if form.is_valid():
        try:
            getattr(services, service)(dossier.pk, user=request.user, **form.arguments())
        except services.TransitionRefused as exc:
            return render(request, "dossiers/refused.html", {"dossier": dossier, "reason": exc.reason,
                                                             "applicant_side": True}, status=409)
        except services.NotAllowed as exc:
            return denied(request, str(exc))
        except services.InvalidInput as exc:
            form.show_service_error(exc)
        else:
            messages.success(request, success)
            return redirect("dossiers:detail", code=dossier.code)
    return _render_my_dossier(request, dossier, status=400, **forms_back)


@applicant_required
@require_GET
def my_form_pdf(request, dossier, form):
    if form not in APPLICANT_FORMS:
        raise Http404(gettext("There is no such document for you."))
    return _pdf_response(request, dossier, form)


@applicant_required
@require_GET
def my_attachment(request, dossier, pk):
    """A file of the applicant's dossier that is theirs to see (``applicant_queries.visible_attachments``): a draft
    result, a replaced one, or the result before delivery is 404, as if it did not exist."""
    return _file_response(applicant_queries.visible_attachments(dossier), pk)
