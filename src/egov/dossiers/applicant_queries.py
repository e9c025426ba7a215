"""Reads for the applicant's own pages (hồ sơ của tôi): their dossiers newest first, one key-paged page at a time, and
a dossier's history told in plain words (the status timeline)."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, router
from django.utils.translation import gettext_lazy as _

from egov.dossiers import rules
from egov.dossiers.models import Attachment, Dossier, Status, Transition
from egov.kernel.db import column_converter
from egov.procedures.models import ProcedureVersion

PAGE_SIZE = 20


@dataclass(frozen=True)
class MyDossierRow:
    """What the list shows of a dossier (its few columns, not the sealed content)."""
    id: int
    code: str
    procedure_name: str
    submitted_at: object
    status: int
    appointment_at: object


@dataclass(frozen=True)
class MyDossiersPage:
    rows: list[MyDossierRow]
    next_after_id: int | None


def my_dossiers(user, *, after_id: int | None = None, limit: int = PAGE_SIZE) -> MyDossiersPage:
    """The dossiers the user filed, newest first (index ``dossiers_applicant``), after ``after_id``. Written by hand:
    every visit of "my dossiers" runs it, and the ORM's building of this two-table select cost as much as the
    database's work on it."""
    limit = max(1, min(int(limit), 100))
    connection = connections[router.db_for_read(Dossier)]
    q = connection.ops.quote_name
    sql = (f"SELECT d.id, d.code, v.name, d.submitted_at, d.status, d.appointment_at FROM {q(Dossier._meta.db_table)} d "
           f"JOIN {q(ProcedureVersion._meta.db_table)} v ON v.id = d.procedure_version_id "
           f"WHERE d.applicant_id = %s{' AND d.id < %s' if after_id else ''} ORDER BY d.id DESC LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, *([after_id] if after_id else []), limit + 1])
        found = cursor.fetchall()
    when = column_converter(connection, Dossier, "submitted_at")
    page = [MyDossierRow(pk, code, name, when(submitted), status, when(appointment))
            for pk, code, name, submitted, status, appointment in found]
    next_after = page[limit - 1].id if len(page) > limit else None
    return MyDossiersPage(rows=page[:limit], next_after_id=next_after)


# What happened, as the applicant reads it: by the status reached (and, where it matters, the one left).
ENTERED = {
    Status.SUBMITTED: _("You submitted the dossier online. The one-stop desk will check and receive it."),
    Status.RECEIVED: _("The one-stop desk received your dossier and set the appointment date (form 01). "
                       "The deadline clock started."),
    Status.REFUSED: _("The one-stop desk did not receive your dossier (form 03)."),
    Status.PROCESSING: _("Your dossier was sent to the competent unit, which is processing it."),
    Status.SUPPLEMENT_REQUESTED: _("The agency asked you to supplement your dossier (form 02). "
                                   "The deadline clock is paused until you answer."),
    Status.FEES_DUE: _("Fees or taxes are due. The deadline clock is paused until they are paid."),
    Status.WITHDRAWAL_REQUESTED: _("You asked to withdraw the dossier."),
    Status.STOPPED: _("Processing stopped (form 05)."),
    Status.RESULT_READY: _("The result is ready."),
    Status.DELIVERED: _("The result was delivered to you."),
}
RESUMED = {
    Status.SUPPLEMENT_REQUESTED: _("You sent the supplement. Processing resumed and the clock runs again."),
    Status.FEES_DUE: _("The fees were paid. Processing resumed and the clock runs again."),
}
SAME_STATUS = {
    "04": _("The agency apologised for the delay and set a new appointment date (form 04)."),
    "result": _("The agency issued the result."),
}
# Notes the applicant should read (reasons given to them); internal working notes stay in the back office.
NOTE_STATUSES = (Status.REFUSED, Status.SUPPLEMENT_REQUESTED, Status.STOPPED, Status.WITHDRAWAL_REQUESTED)


@dataclass(frozen=True)
class TimelineEntry:
    at: object
    what: str
    status: str
    note: str
    missing: list[str]


def _describe(transition: Transition) -> str:
    source, target = transition.from_status, transition.to_status
    if transition.form == "notice" and source == Status.WITHDRAWAL_REQUESTED:
        return str(_("The agency refused your request to withdraw; processing continues."))
    if source == target:
        return str(SAME_STATUS.get(transition.form, ENTERED.get(target, "")))
    if source == Status.SUPPLEMENT_REQUESTED and target == Status.SUBMITTED:
        return str(_("You sent the supplement. The one-stop desk will check and receive the dossier."))
    if target == Status.PROCESSING and source in RESUMED:
        return str(RESUMED[source])
    return str(ENTERED.get(target, ""))


def timeline(dossier: Dossier) -> list[TimelineEntry]:
    """Every change of the dossier in plain words, oldest first, with the reasons and missing items given to the
    applicant; the agency's working papers (a draft result) are not theirs to see."""
    entries = []
    for transition in dossier.transitions.exclude(form__in=rules.OFFICE_ONLY_DOCUMENTS).order_by("at", "id"):
        details = transition.details or {}
        changed = transition.from_status != transition.to_status
        note = transition.note if (changed and transition.to_status in NOTE_STATUSES) \
            or transition.form in ("04", "notice") else ""
        if transition.to_status == Status.STOPPED and changed:
            note = str(_("You withdrew the dossier.")) if details.get("reason") == "withdrawn" else note
        items = []
        if changed and transition.to_status == Status.SUPPLEMENT_REQUESTED:
            items = details.get("missing") or []
        elif changed and transition.to_status == Status.REFUSED:
            items = details.get("reasons") or []
        entries.append(TimelineEntry(at=transition.at, what=_describe(transition),
                                     status=Status(transition.to_status).label, note=note, missing=list(items)))
    return entries


def open_supplement_request(dossier: Dossier) -> TimelineEntry | None:
    """The supplement request the applicant must answer now (the latest one), with every missing item."""
    if dossier.status != Status.SUPPLEMENT_REQUESTED:
        return None
    last = dossier.transitions.filter(to_status=Status.SUPPLEMENT_REQUESTED).exclude(
        from_status=Status.SUPPLEMENT_REQUESTED).order_by("-at", "-id").first()
    if last is None:
        return None
    return TimelineEntry(at=last.at, what=_describe(last), status=Status(last.to_status).label, note=last.note,
                         missing=list((last.details or {}).get("missing") or []))


def visible_attachments(dossier: Dossier):
    """The files of the dossier its applicant may see and download (their pages, their API): what was filed and
    supplied, and the result once delivered. Never a draft result (the agency's working paper), nor a result replaced
    before delivery (it was never delivered and may be wrong)."""
    kinds = [Attachment.Kind.COMPONENT, Attachment.Kind.SUPPLEMENT]
    if dossier.status == Status.DELIVERED:
        kinds.append(Attachment.Kind.RESULT)
    return dossier.attachments.filter(kind__in=kinds).exclude(component_code=Attachment.REPLACED_RESULT)
