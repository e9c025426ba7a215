"""GovStack Registration BB on the one-stop system: the reads (services, eForms, applications, tasks, statistics).

Who sees which applications and tasks: a client system those received by its agency (with ``registration.read`` /
``registration.tasks``); an officer signed in those of their agency; a citizen signed in their own applications.
Anything else answers 404, as if it did not exist. Lists serve the spec's offset paging (``firstResult``,
``maxResult``) with the page size capped at ``MAX_PAGE_SIZE``, ordered by a unique key.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from egov.govstack.registration_services import (RIGHT_READ, RIGHT_TASKS, Invalid, NotFound, applicant_account,
                                                  procedure_for_service, require_client_right)
from egov.kernel.access import Caller
from egov.kernel.caching import kept
from egov.kernel.db import column_converter
from egov.kernel.paging import row_id

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_FIRST_RESULT = 10_000  # deeper than this, narrow the list (service, applicant) instead of paging by offset

# statusModel of the spec ← our ten statuses (DOMAIN.md). A result "ready" may be a reasoned refusal to grant: the
# spec has no word for it, and the dossier's own status (``egovStatus``) says more.
PENDING, APPROVED, SENDBACK, REJECTED = "PENDING", "APPROVED", "SENDBACK", "REJECTED"
STATUS_CODES = {1: PENDING, 2: PENDING, 3: REJECTED, 4: PENDING, 5: SENDBACK, 6: PENDING, 7: PENDING, 8: REJECTED,
                9: APPROVED, 10: APPROVED}
ENDED_STATUSES = frozenset({3, 8, 9, 10})


def status_of(status: int) -> dict:
    from egov.dossiers.rules import label

    return {"code": STATUS_CODES[int(status)], "title": str(label(status))}


def page_bounds(first_result: int | None, max_result: int | None) -> tuple[int, int]:
    # Only a missing value takes the default: 0 is a value, and a page of 0 is refused below, not served as 20.
    first = 0 if first_result is None else int(first_result)
    size = DEFAULT_PAGE_SIZE if max_result is None else int(max_result)
    if first < 0 or first > MAX_FIRST_RESULT:
        raise Invalid(_("firstResult is from 0 to %(max)d; narrow the list to go further.") % {"max": MAX_FIRST_RESULT},
                      field="query.firstResult")
    if size < 1:
        raise Invalid(_("maxResult is at least 1."), field="query.maxResult")
    return first, min(size, MAX_PAGE_SIZE)


def _order(sort_by: str | None, sort_order: str | None, fields: dict[str, str], default: str) -> list[str]:
    if sort_order and not sort_by:
        raise Invalid(_("sortOrder is used together with sortBy."), field="query.sortBy")
    if sort_by and sort_by not in fields:
        raise Invalid(_("sortBy is one of: %(values)s.") % {"values": ", ".join(sorted(fields))}, field="query.sortBy")
    order = (sort_order or "desc").lower()
    if order not in ("asc", "desc"):
        raise Invalid(_("sortOrder is asc or desc."), field="query.sortOrder")
    column = fields[sort_by or default]
    sign = "-" if order == "desc" else ""
    return [f"{sign}{column}", f"{sign}id"] if column != "id" else [f"{sign}id"]


# --- Services and eForms -----------------------------------------------------------------------------------------

def services(*, name: str = "", first: int = 0, size: int = MAX_PAGE_SIZE, on: dt.date | None = None) -> list:
    """The procedures with a version in force, by code; ``name`` matches words of the name or the code, without
    diacritics ("dang ky khai sinh")."""
    from egov.kernel.calendar_rules import to_vn
    from egov.kernel.text import fold
    from egov.procedures.queries import versions_in_force

    versions = versions_in_force(on or to_vn(timezone.now()).date())
    wanted = fold(name or "")
    if wanted:
        versions = [v for v in versions if all(word in fold(f"{v.procedure.code} {v.name}") for word in wanted.split())]
    return versions[first:first + size]


def service(value: str, *, on: dt.date | None = None):
    """(procedure, version in force or None) of a service id."""
    from egov.kernel.calendar_rules import to_vn
    from egov.procedures.queries import version_in_force

    procedure = procedure_for_service(value)
    return procedure, version_in_force(procedure, on or to_vn(timezone.now()).date())


def eforms(value: str) -> tuple[object, list, int]:
    """(procedure, its versions newest first, the latest version number) of a service id."""
    procedure = procedure_for_service(value)
    versions = list(procedure.versions.select_related("procedure").order_by("-version"))
    return procedure, versions, (versions[0].version if versions else 0)


# --- Applications ------------------------------------------------------------------------------------------------

AGENCY_ID_MAX_AGE_SECONDS = 60


def _agency_id(code: str) -> int | None:
    """The id of the agency with this code, kept a minute in the cache (codes are permanent; one query less per
    list). Who may see what is decided by the caller's own agency code, read afresh with its credentials."""
    from egov.registries.models import Agency

    return kept(f"govstack.agency_id:{code}", AGENCY_ID_MAX_AGE_SECONDS,
                lambda: Agency.objects.filter(code=code).values_list("id", flat=True).first() or 0) or None


def _visible_scope(caller: Caller, right: str) -> tuple[str, int] | None:
    """Which dossiers the caller may see, as (dossier column, value), or None for none: a client system (with the
    right) or an officer those received by its agency, a citizen their own. The agency by its id, looked up first:
    with the id known when the query is planned, the newest come straight from the index dossiers_agency_newest (a
    join on the code made PostgreSQL walk every dossier backwards by id)."""
    if caller.kind in ("client", "officer"):
        if caller.kind == "client":
            require_client_right(caller, right)
        agency_id = _agency_id(caller.agency_code or "-")
        return ("receiving_agency_id", agency_id) if agency_id is not None else None
    if caller.kind == "citizen":
        return ("applicant_id", caller.actor.pk)
    return None


def _visible_dossiers(caller: Caller, right: str):
    from egov.dossiers.models import Dossier

    scope = _visible_scope(caller, right)
    return Dossier.objects.filter(**{scope[0]: scope[1]}) if scope else Dossier.objects.none()


APPLICATION_SORTS = {"created": "submitted_at", "registered": "submitted_at", "dueDate": "appointment_at", "id": "id"}


def applications(caller: Caller, *, service_id: str | None = None, applicant_id: str | None = None, first: int = 0,
                 size: int = DEFAULT_PAGE_SIZE, sort_by: str | None = None, sort_order: str | None = None) -> list[dict]:
    """One page of the applications the caller may see, newest first unless sorted otherwise: rows of
    APPLICATION_LIST_COLUMNS. Only the columns a list item shows, as plain rows, and written by hand: whole dossiers
    and accounts (sealed content, JSON fields), even the ORM's building of this four-table select, cost more than
    the database spends finding them (over the indexes dossiers_agency_newest, dossiers_inbox, dossiers_applicant)."""
    from egov.dossiers.models import Dossier
    from egov.exchange.models import SubjectIdentifier
    from egov.procedures.models import Procedure, ProcedureVersion

    scope = _visible_scope(caller, RIGHT_READ)
    where, params = ([f"d.{scope[0]} = %s"], [scope[1]]) if scope else ([], [])
    if service_id:
        where.append("v.procedure_id = %s")
        params.append(procedure_for_service(service_id).pk)
    if applicant_id:
        where.append("d.applicant_id = %s")
        params.append(applicant_account(applicant_id, field="query.applicantId").pk)
    order = ", ".join(f"d.{name.lstrip('-')} {'DESC' if name.startswith('-') else 'ASC'}"
                      for name in _order(sort_by, sort_order, APPLICATION_SORTS, "id"))
    if scope is None:
        return []
    connection = connections[router.db_for_read(Dossier)]
    q = connection.ops.quote_name
    sql = (f"SELECT d.id, d.uid, d.code, d.status, d.submitted_at, v.name, v.version, p.code, s.sub "
           f"FROM {q(Dossier._meta.db_table)} d "
           f"JOIN {q(ProcedureVersion._meta.db_table)} v ON v.id = d.procedure_version_id "
           f"JOIN {q(Procedure._meta.db_table)} p ON p.id = v.procedure_id "
           f"LEFT JOIN {q(SubjectIdentifier._meta.db_table)} s ON s.user_id = d.applicant_id "
           f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT %s OFFSET %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, size, first])
        found = cursor.fetchall()
    uid, when = column_converter(connection, Dossier, "uid"), column_converter(connection, Dossier, "submitted_at")
    sub = column_converter(connection, SubjectIdentifier, "sub")
    return [dict(zip(APPLICATION_LIST_COLUMNS, (pk, uid(uid_value), code, status, when(submitted), name, version,
                                                procedure_code, sub(subject) if subject is not None else None),
                     strict=True))
            for pk, uid_value, code, status, submitted, name, version, procedure_code, subject in found]


APPLICATION_LIST_COLUMNS = ("id", "uid", "code", "status", "submitted_at", "procedure_version__name",
                            "procedure_version__version", "procedure_version__procedure__code",
                            "applicant__oidc_subject__sub")


def application(caller: Caller, file_id: str, *, right: str = RIGHT_READ):
    """One application the caller may see (404 otherwise, whoever else's it is)."""
    from egov.govstack.registration_services import _as_uuid

    uid = _as_uuid(file_id)
    dossier = None
    if uid is not None:
        dossier = (_visible_dossiers(caller, right).select_related(
            "procedure_version__procedure", "receiving_agency", "applicant__oidc_subject", "assignee")
            .filter(uid=uid).first())
    if dossier is None:
        raise NotFound(_("No application with this id."))
    return dossier


def open_steps_of(dossier_ids: list[int]) -> dict[int, dict]:
    """The first open step of each dossier (the task an operator works on now), as rows of OPEN_STEP_COLUMNS; by
    hand like the list it completes (``applications``)."""
    from egov.accounts.models import User
    from egov.dossiers.models import Step

    if not dossier_ids:
        return {}
    connection = connections[router.db_for_read(Step)]
    q = connection.ops.quote_name
    sql = (f"SELECT s.dossier_id, s.name, s.role, u.username, u.first_name, u.last_name FROM {q(Step._meta.db_table)} s "
           f"LEFT JOIN {q(User._meta.db_table)} u ON u.id = s.assignee_id "
           f"WHERE s.dossier_id IN ({', '.join(['%s'] * len(dossier_ids))}) AND s.completed_at IS NULL "
           "ORDER BY s.started_at, s.id")
    first: dict[int, dict] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, list(dossier_ids))
        for row in cursor.fetchall():
            first.setdefault(row[0], dict(zip(OPEN_STEP_COLUMNS, row, strict=True)))
    return first


OPEN_STEP_COLUMNS = ("dossier_id", "name", "role", "assignee__username", "assignee__first_name", "assignee__last_name")


def documents_of(caller: Caller, dossier):
    """The documents of an application the caller may read: all of them for its agency (officers, client systems);
    for the applicant those their own dossier page shows (never a draft result, nor the result before delivery)."""
    if caller.kind == "citizen":
        from egov.dossiers.applicant_queries import visible_attachments

        return visible_attachments(dossier)
    return dossier.attachments.all()


def attachment(caller: Caller, file_id: str, attachment_id: str):
    """A document of an application by its id as the URL gives it: anything but a row id (``kernel.paging.row_id``)
    is no document, like an unknown id."""
    dossier = application(caller, file_id)
    document_id = row_id(attachment_id)
    found = documents_of(caller, dossier).filter(pk=document_id).first() if document_id is not None else None
    if found is None:
        raise NotFound(_("No such document in this application."))
    return dossier, found


# --- Tasks -------------------------------------------------------------------------------------------------------

def _visible_steps(caller: Caller):
    from egov.dossiers.models import Step

    steps = Step.objects.all()
    if caller.kind == "client":
        require_client_right(caller, RIGHT_TASKS)
        return steps.filter(dossier__receiving_agency__code=caller.agency_code)
    if caller.kind == "officer":
        return steps.filter(dossier__receiving_agency__code=caller.agency_code or "-")
    return steps.none()  # citizens have no operator tasks


TASK_SORTS = {"created": "started_at", "dueDate": "due_at", "id": "id", "name": "name"}


def tasks(caller: Caller, *, main_task_id: str | None = None, file_id: str | None = None,
          assignee_id: str | None = None, first: int = 0, size: int = DEFAULT_PAGE_SIZE, sort_by: str | None = None,
          sort_order: str | None = None) -> list:
    """Open processing steps the caller may see; ``fileId`` (or ``mainTaskId``, the same id) narrows to one
    application, ``assigneeId`` (an officer's username) to one officer's."""
    from egov.govstack.registration_services import _as_uuid

    rows = _visible_steps(caller).filter(completed_at__isnull=True)
    for value in (main_task_id, file_id):
        if value:
            uid = _as_uuid(value)
            rows = rows.filter(dossier__uid=uid) if uid else rows.none()
    if assignee_id:
        rows = rows.filter(assignee__username=assignee_id)
    rows = rows.select_related("dossier__procedure_version__procedure", "assignee")
    return list(rows.order_by(*_order(sort_by, sort_order, TASK_SORTS, "id"))[first:first + size])


def task_for(caller: Caller, task_id: str):
    text = str(task_id or "").strip()
    step = None
    if text.isdigit() and len(text) < 19:
        step = (_visible_steps(caller).select_related("dossier__procedure_version__procedure", "assignee")
                .filter(pk=int(text)).first())
    if step is None:
        raise NotFound(_("No task with this id."))
    return step


# --- Statistics --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    start: dt.date
    end: dt.date
    processed: int
    approved: int
    sent_back: int
    rejected: int


TIMEFRAMES = ("day", "week", "month", "year")
MAX_BUCKETS = 400
# Dates a statistics period may start or end on. No dossier predates the platform, and the bounds keep the period
# arithmetic (the day after the end, a week's Sunday, the zone's midnight) inside Python's dates (years 1 to 9999).
FIRST_DATE, LAST_DATE = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def _buckets(start: dt.date, end: dt.date, timeframe: str | None) -> list[tuple[dt.date, dt.date]]:
    if not timeframe:
        return [(start, end)]
    buckets, cursor = [], start
    while cursor <= end:
        if timeframe == "day":
            last = cursor
        elif timeframe == "week":
            last = cursor + dt.timedelta(days=6 - cursor.weekday())
        elif timeframe == "month":
            nxt = (cursor.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            last = nxt - dt.timedelta(days=1)
        else:
            last = dt.date(cursor.year, 12, 31)
        buckets.append((cursor, min(last, end)))
        cursor = min(last, end) + dt.timedelta(days=1)
        if len(buckets) > MAX_BUCKETS:
            raise Invalid(_("Too many periods: choose a longer timeframe or a shorter range."), field="query.timeframe")
    return buckets


def statistics(caller: Caller, *, start: dt.date | None, end: dt.date | None, registration_name: str = "",
               operator: str = "", role: str = "", timeframe: str | None = None) -> list[Figures]:
    """Per period: applications whose processing ended (processed = approved + rejected: result ready or delivered,
    refused at reception or stopped) and supplement requests (sent back), counted over the dossiers the caller may
    see, for one service (its name or code) and the officer or role who completed a step of it.

    Counted from the dossiers' own rows: the monitoring component's roll-ups take over when they exist."""
    from egov.dossiers.models import Status, Transition
    from egov.kernel.calendar_rules import to_vn
    from egov.kernel.text import fold

    bounds = {"min": FIRST_DATE.isoformat(), "max": LAST_DATE.isoformat()}
    errors = [{"field": field, "message": message % bounds}
              for field, value, message in (("query.startDate", start, _("startDate is from %(min)s to %(max)s.")),
                                            ("query.endDate", end, _("endDate is from %(min)s to %(max)s.")))
              if value is not None and not FIRST_DATE <= value <= LAST_DATE]
    if errors:
        raise Invalid(errors[0]["message"], field=errors[0]["field"], errors=errors)
    today = to_vn(timezone.now()).date()
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise Invalid(_("startDate is on or before endDate."), field="query.startDate")
    if timeframe and timeframe not in TIMEFRAMES:
        raise Invalid(_("timeframe is day, week, month or year."), field="query.timeframe")
    dossiers = _visible_dossiers(caller, RIGHT_READ)
    if registration_name.strip():
        from egov.procedures.models import Procedure

        folded = fold(registration_name)
        procedures = Procedure.objects.filter(Q(code=registration_name.strip()) | Q(search_text__contains=folded))
        dossiers = dossiers.filter(procedure_version__procedure__in=procedures)
    if operator.strip():
        dossiers = dossiers.filter(steps__completed_by__username=operator.strip())
    if role.strip():
        dossiers = dossiers.filter(steps__role=role.strip(), steps__completed_at__isnull=False)
    ids = dossiers.values("id")
    figures = []
    tz = timezone.get_fixed_timezone(7 * 60)
    for first, last in _buckets(start, end, timeframe):
        since = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
        until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        moves = Transition.objects.filter(dossier_id__in=ids, at__gte=since, at__lt=until)
        ended = dict(moves.filter(to_status__in=[Status.REFUSED, Status.STOPPED, Status.RESULT_READY])
                     .exclude(from_status=F("to_status")).values_list("to_status").order_by()
                     .annotate(n=Count("dossier_id", distinct=True)).values_list("to_status", "n"))
        approved = ended.get(Status.RESULT_READY, 0)
        rejected = ended.get(Status.REFUSED, 0) + ended.get(Status.STOPPED, 0)
        sent_back = (moves.filter(to_status=Status.SUPPLEMENT_REQUESTED).exclude(from_status=Status.SUPPLEMENT_REQUESTED)
                     .count())
        figures.append(Figures(first, last, approved + rejected, approved, sent_back, rejected))
    return figures

