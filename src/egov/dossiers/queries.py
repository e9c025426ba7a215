"""Reads of the one-stop system: the officer's inbox, one dossier for an officer, its clock, what may be done now,
the tracking book (form 07). Lists paginate by key (``after_id``), never by offset."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connections, router
from django.db.models import Count
from django.http import Http404
from django.utils import timezone

from egov.dossiers import rules, services
from egov.dossiers.models import AgencyStatusCount, Attachment, Dossier, Pause, Status, Step, Transition
from egov.kernel import calendar
from egov.kernel.calendar_rules import HOURS_PER_WORKING_DAY
from egov.kernel.caching import kept
from egov.kernel.db import column_converter
from egov.procedures.models import Procedure, ProcedureVersion

OPEN_STATUSES = (Status.SUBMITTED, Status.RECEIVED, Status.PROCESSING, Status.SUPPLEMENT_REQUESTED, Status.FEES_DUE,
                 Status.WITHDRAWAL_REQUESTED, Status.RESULT_READY)
# Statuses whose appointment date is running (or paused) and can fall overdue.
CLOCK_STATUSES = (Status.RECEIVED, Status.PROCESSING, Status.SUPPLEMENT_REQUESTED, Status.FEES_DUE,
                  Status.WITHDRAWAL_REQUESTED)
NEAR_DEADLINE_DAYS = 1  # working days left before the appointment date that count as "near"
FLAGS = ("near_deadline", "overdue")


@dataclass(frozen=True)
class InboxRow:
    """What the inbox shows of a dossier (the few columns it needs, not the sealed content)."""
    id: int
    code: str
    status: int
    received_at: dt.datetime | None
    appointment_at: dt.datetime | None
    procedure_code: str
    procedure_name: str


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    counts: dict[int, int]
    next_after_id: int | None
    overdue_ids: frozenset[int] = frozenset()
    near_ids: frozenset[int] = frozenset()


def _officer_dossiers(officer):
    services._officer_role(officer)
    return Dossier.objects.filter(receiving_agency_id=officer.agency_id)


def near_deadline_limit(now: dt.datetime, office_hours) -> dt.datetime:
    """The instant one working day from now: appointments before it are near. Only shown (a flag), so the calendar
    may be up to a minute old (``calendar.recent``)."""
    return calendar.recent().add_working_days(now, NEAR_DEADLINE_DAYS, office_hours)


AGENCY_FACTS_MAX_AGE_SECONDS = 60


@dataclass(frozen=True)
class AgencyFacts:
    """What the back-office pages show of the officer's agency, kept AGENCY_FACTS_MAX_AGE_SECONDS in the cache (an edit
    of the agency or of its procedures shows within a minute): reading them on every inbox page cost as much as the
    page's own query. Never used to decide who may do what."""
    name: str
    office_hours: calendar.OfficeHours
    procedures: tuple[tuple[int, str], ...]  # (procedure id, "code – name") of the versions in force today


def agency_facts(agency_id: int) -> AgencyFacts:
    from egov.dossiers.forms import current_versions
    from egov.registries.models import Agency

    today = timezone.localdate()

    def read() -> AgencyFacts:
        agency = Agency.objects.get(pk=agency_id)
        return AgencyFacts(name=agency.name, office_hours=calendar.OfficeHours.for_agency(agency),
                           procedures=tuple((v.procedure_id, f"{v.procedure.code} – {v.name}")
                                            for v in current_versions(agency, today=today)))

    return kept(f"dossiers.agency_facts:{agency_id}:{today.isoformat()}", AGENCY_FACTS_MAX_AGE_SECONDS, read)


def status_counts(agency_id: int, dossiers=None) -> dict[int, int]:
    """How many dossiers the agency holds per status: from the running counts (``AgencyStatusCount``, a few rows per
    status), or, for a narrower set of its dossiers (one procedure), counted over the index dossiers_inbox."""
    if dossiers is not None:
        return dict(dossiers.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    connection = connections[router.db_for_read(AgencyStatusCount)]
    with connection.cursor() as cursor:  # by hand, like the page's rows (inbox_rows says why)
        table = connection.ops.quote_name(AgencyStatusCount._meta.db_table)
        cursor.execute(f"SELECT status, SUM(n) FROM {table} WHERE agency_id = %s GROUP BY status", [agency_id])
        return {status: int(total) for status, total in cursor.fetchall() if total}


def inbox_rows(agency_id: int, *, statuses, procedure_id: int | None = None, assigned_to: int | None = None,
               appointment_from: dt.datetime | None = None, appointment_before: dt.datetime | None = None,
               appointment_until: dt.datetime | None = None, after_id: int | None = None,
               limit: int = 25) -> list[InboxRow]:
    """The agency's dossiers in ``statuses``, newest first, after ``after_id``: up to ``limit`` rows, over the indexes
    dossiers_inbox (agency, status, id) and dossiers_agency_newest (agency, id). Written by hand: every officer's
    every inbox page runs it, and the ORM's building of this three-table select with its conditions cost as much as
    the database's work on it. ``assigned_to``: the officer is the dossier's assignee or holds one of its open
    steps; ``appointment_*``: at or after, strictly before, at or before."""
    connection = connections[router.db_for_read(Dossier)]
    q = connection.ops.quote_name
    where, params = ["d.receiving_agency_id = %s"], [agency_id]
    statuses = list(statuses)
    if len(statuses) == 1:
        where.append("d.status = %s")
    else:
        where.append(f"d.status IN ({', '.join(['%s'] * len(statuses))})")
    params += statuses
    if procedure_id:
        where.append("v.procedure_id = %s")
        params.append(procedure_id)
    if assigned_to:
        where.append(f"(d.assignee_id = %s OR EXISTS (SELECT 1 FROM {q(Step._meta.db_table)} s "
                     "WHERE s.dossier_id = d.id AND s.assignee_id = %s AND s.completed_at IS NULL))")
        params += [assigned_to, assigned_to]
    for condition, value in (("d.appointment_at >= %s", appointment_from),
                             ("d.appointment_at < %s", appointment_before),
                             ("d.appointment_at <= %s", appointment_until)):
        if value is not None:
            where.append(condition)
            params.append(connection.ops.adapt_datetimefield_value(value))
    if after_id:
        where.append("d.id < %s")
        params.append(after_id)
    sql = (f"SELECT d.id, d.code, d.status, d.received_at, d.appointment_at, p.code, v.name "
           f"FROM {q(Dossier._meta.db_table)} d "
           f"JOIN {q(ProcedureVersion._meta.db_table)} v ON v.id = d.procedure_version_id "
           f"JOIN {q(Procedure._meta.db_table)} p ON p.id = v.procedure_id "
           f"WHERE {' AND '.join(where)} ORDER BY d.id DESC LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        found = cursor.fetchall()
    when = column_converter(connection, Dossier, "received_at")
    return [InboxRow(pk, code, status, when(received), when(appointment), procedure_code, name)
            for pk, code, status, received, appointment, procedure_code, name in found]


def inbox(officer, *, status: int | None = None, procedure_id: int | None = None, flag: str | None = None,
          mine: bool = False, after_id: int | None = None, limit: int = 25, now: dt.datetime | None = None) -> InboxPage:
    """Hồ sơ của đơn vị: newest first, one page after ``after_id``; counts per status for the tabs (open statuses
    by default). Overdue: the appointment has passed and the result is not ready; near: due within a working day."""
    now = now or timezone.now()
    limit = max(1, min(int(limit), 100))
    services._officer_role(officer)
    agency_id = officer.agency_id
    if procedure_id:
        counts = status_counts(agency_id, Dossier.objects.filter(receiving_agency_id=agency_id,
                                                                 procedure_version__procedure_id=procedure_id))
    else:
        counts = status_counts(agency_id)
    near_limit = near_deadline_limit(now, agency_facts(agency_id).office_hours)
    statuses = [status] if status else list(OPEN_STATUSES)
    window = {}
    if flag == "overdue":
        statuses = [value for value in statuses if value in CLOCK_STATUSES]
        window = {"appointment_before": now}
    elif flag == "near_deadline":
        statuses = [value for value in statuses if value in CLOCK_STATUSES]
        window = {"appointment_from": now, "appointment_until": near_limit}
    found = inbox_rows(agency_id, statuses=statuses, procedure_id=procedure_id,
                       assigned_to=officer.pk if mine else None, after_id=after_id, limit=limit + 1,
                       **window) if statuses else []
    next_after = found[limit - 1].id if len(found) > limit else None
    page = found[:limit]
    overdue = frozenset(d.id for d in page if d.status in CLOCK_STATUSES and d.appointment_at and d.appointment_at < now)
    near = frozenset(d.id for d in page if d.status in CLOCK_STATUSES and d.appointment_at
                     and now <= d.appointment_at <= near_limit)
    return InboxPage(rows=page, counts=counts, next_after_id=next_after, overdue_ids=overdue, near_ids=near)


def for_officer(officer, code: str) -> Dossier:
    """One dossier of the officer's agency (another agency's: 404, as if it did not exist)."""
    dossier = (_officer_dossiers(officer).select_related("procedure_version__procedure", "receiving_agency",
                                                         "assignee").filter(code=code).first())
    if dossier is None:
        raise Http404("no such dossier in your agency")
    return dossier


def for_applicant(user, code: str) -> Dossier:
    if not getattr(user, "is_authenticated", False):
        raise services.NotAllowed("sign in")
    dossier = (Dossier.objects.select_related("procedure_version__procedure", "receiving_agency")
               .filter(code=code, applicant=user).first())
    if dossier is None:
        raise Http404("no such dossier of yours")
    return dossier


def history(dossier: Dossier) -> list[Transition]:
    return list(dossier.transitions.select_related("actor").order_by("at", "id"))


def attachments(dossier: Dossier) -> list[Attachment]:
    return list(dossier.attachments.order_by("uploaded_at", "id"))


@dataclass(frozen=True)
class StepClock:
    task_id: str
    name: str
    role: str
    assignee: str
    started_at: dt.datetime
    due_at: dt.datetime
    completed_at: dt.datetime | None
    verdict: str
    outcome: str


@dataclass(frozen=True)
class DossierClock:
    received_at: dt.datetime | None
    appointment_at: dt.datetime | None
    original_appointment_at: dt.datetime | None
    rescheduled: bool
    paused: bool
    pauses: list[Pause] = field(default_factory=list)
    steps: list[StepClock] = field(default_factory=list)
    verdict: str = ""           # of the whole dossier once it has ended
    remaining_hours: float | None = None   # working hours left (negative: overdue by), None when not running
    overdue: bool = False
    # When the dossier was actually received, if the clock counts from later (it arrived outside office hours, at
    # lunch, on a day off, or after 15:00 for a same-day procedure): the timeline shows this earlier time.
    arrived_at: dt.datetime | None = None

    @property
    def remaining_days(self) -> tuple[int, float] | None:
        """The working time left as a citizen counts it: whole working days (of 8 hours, Decree 118/2025's unit for
        deadlines) and the hours over; None when the clock is not running or is overdue."""
        if self.remaining_hours is None or self.remaining_hours < 0:
            return None
        days, hours = divmod(round(self.remaining_hours, 1), HOURS_PER_WORKING_DAY)
        return int(days), round(hours, 1)


def clock(dossier: Dossier, *, now: dt.datetime | None = None) -> DossierClock:
    """The legal clock as the officer and the applicant see it: receipt, appointment, pauses with reasons, each step
    with its due date and early / on time / late."""
    now = now or timezone.now()
    pauses = list(dossier.pauses.all())
    steps = [StepClock(s.task_id, s.name, s.role, s.assignee.get_full_name() if s.assignee else "", s.started_at,
                       s.due_at, s.completed_at, s.verdict, s.outcome)
             for s in Step.objects.filter(dossier=dossier).select_related("assignee").order_by("started_at", "id")]
    paused = any(p.ended_at is None for p in pauses)
    verdict, remaining, overdue = "", None, False
    if dossier.finished_at and dossier.appointment_at and dossier.status in (Status.RESULT_READY, Status.DELIVERED):
        verdict = rules.verdict(dossier.finished_at, dossier.appointment_at)
    elif dossier.appointment_at and dossier.status in CLOCK_STATUSES:
        cal = calendar.Calendar()
        agency = dossier.receiving_agency
        if now <= dossier.appointment_at:
            remaining = cal.working_hours_between(now, dossier.appointment_at, agency).total_seconds() / 3600
        else:
            remaining = -cal.working_hours_between(dossier.appointment_at, now, agency).total_seconds() / 3600
            overdue = not paused
    arrived_at = None
    if dossier.received_at is not None:
        arrived_at = (Transition.objects.filter(dossier=dossier, to_status=Status.RECEIVED).order_by("at", "id")
                      .values_list("at", flat=True).first())
        if arrived_at is not None and dossier.received_at - arrived_at < dt.timedelta(minutes=1):
            arrived_at = None  # received in office hours: the clock starts then
    return DossierClock(received_at=dossier.received_at, appointment_at=dossier.appointment_at, arrived_at=arrived_at,
                        original_appointment_at=dossier.original_appointment_at,
                        rescheduled=dossier.rescheduled_at is not None, paused=paused, pauses=pauses, steps=steps,
                        verdict=verdict, remaining_hours=remaining, overdue=overdue)


def open_steps(dossier: Dossier) -> list[Step]:
    return list(dossier.steps.filter(completed_at__isnull=True).select_related("assignee").order_by("started_at", "id"))


def actions_for(officer, dossier: Dossier) -> list[str]:
    """The back-office actions this officer may take on this dossier now (the buttons shown); the services check
    again on every POST."""
    role = getattr(officer, "role", "")
    if officer.agency_id != dossier.receiving_agency_id or role not in rules.OFFICER_ROLES:
        return []
    on = timezone.localdate()
    actions = [t.action for t in rules.allowed_targets(dossier.status, actor_role=role, on=on)]
    actions = [a for a in actions if a not in ("complete-step", "request-withdrawal")]
    if dossier.status == Status.PROCESSING:
        steps = open_steps(dossier)
        if any(s.role == role and (s.assignee_id in (None, officer.pk)) for s in steps):
            actions.append("complete-step")
        if services.processing_finished(dossier):
            # The last step is approved: the result is signed by that step's role (no more drafts).
            if role == (services.approver_role(dossier) or role) and role in rules.PROCESSORS:
                actions.append("sign-result")
        elif role in rules.PROCESSORS:
            actions.append("attach-result")  # a draft result while steps remain open
    if dossier.status == Status.WITHDRAWAL_REQUESTED and role in rules.REFUSE_WITHDRAWAL_ACTORS:
        actions.append("refuse-withdrawal")
    if (dossier.status in rules.APOLOGY_STATUSES and role in rules.APOLOGY_ACTORS and dossier.rescheduled_at is None
            and dossier.appointment_at and timezone.now() < dossier.appointment_at):
        actions.append("apologise")
    return list(dict.fromkeys(actions))


def officers_for_role(officer, role: str):
    """Officers of the same agency in ``role`` (the next step's assignee)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(agency_id=officer.agency_id, role=role, is_active=True).order_by("username")


def tracking_book(officer, *, date_from: dt.date, date_to: dt.date, status: int | None = None,
                  procedure_id: int | None = None, limit: int = 5000) -> list[Dossier]:
    """Sổ theo dõi hồ sơ (form 07): the agency's dossiers submitted or received in the period, oldest first."""
    rows = _officer_dossiers(officer).filter(submitted_at__date__gte=date_from, submitted_at__date__lte=date_to)
    if status:
        rows = rows.filter(status=status)
    if procedure_id:
        rows = rows.filter(procedure_version__procedure_id=procedure_id)
    return list(rows.select_related("procedure_version__procedure").order_by("submitted_at", "id")[:limit])
