"""Working-day calendar (lịch làm việc): is a day a working day, when is a dossier received, when is it due, how much
working time has elapsed.

All instants are timezone-aware; legal dates are computed in Asia/Ho_Chi_Minh and results are returned in that zone.
The rules are in ``calendar_rules`` (pure); this module reads the yearly table and offers them over it.

Usage::

    from egov.kernel import calendar
    received = calendar.receipt_instant(at, agency)              # Agency, OfficeHours or None (default hours)
    due = calendar.add_working_days(received, 5, agency)
    elapsed = calendar.working_hours_between(received, now, agency, pauses=[(asked, answered)])

A ``Calendar`` instance loads the years it needs (two queries per batch of years) and keeps them for its own life
only: create one per request or per batch job, so an administrator's edit is seen by the next one. The module-level
functions each use a fresh instance. ``recent()`` is the exception for what is only shown, never recorded (the inbox's
near-deadline flag): a calendar read at most ``RECENT_MAX_AGE_SECONDS`` ago, kept in the cache.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal

import holidays
from django.db import transaction
from django.utils import timezone

from egov.kernel import calendar_rules as rules
from egov.kernel import ledger
from egov.kernel.caching import kept
from egov.kernel.calendar_models import CalendarDay, CalendarYear
from egov.kernel.calendar_rules import (  # noqa: F401  (re-exported: callers need only this module)
    HOURS_PER_WORKING_DAY,
    SAME_DAY_CUTOFF,
    VN_TZ,
    CalendarError,
    OfficeHours,
)

logger = logging.getLogger("egov.calendar")

PACKAGE_SOURCE = f"holidays {holidays.__version__}"

Kind = CalendarDay.Kind


class Calendar:
    """The working-day calendar as the table stands when the instance first reads a year."""

    def __init__(self):
        self._schedules: dict[int, rules.YearSchedule] = {}
        self._fallback_years: set[int] = set()
        self._warned: set[int] = set()
        self._days = rules.DaySets(frozenset(), frozenset())

    # -- loading -------------------------------------------------------------------------------------------------------

    def _ensure(self, year: int) -> None:
        if year in self._schedules:
            return
        # The year before (a compensation block may cross New Year) and the year after (deadlines run forwards) come
        # in the same two queries.
        wanted = [y for y in (year - 1, year, year + 1) if y not in self._schedules and dt.MINYEAR < y < dt.MAXYEAR]
        self._load(wanted)

    def _load(self, years: list[int]) -> None:
        in_table = dict(CalendarYear.objects.filter(year__in=years).values_list("year", "id"))
        by_year: dict[int, dict[str, set]] = {y: {kind: set() for kind in Kind.values} for y in in_table}
        rows = CalendarDay.objects.filter(calendar_year__year__in=list(in_table)).values_list(
            "calendar_year__year", "date", "kind"
        )
        for year, day, kind in rows:
            by_year[year][kind].add(day)
        for year in years:
            if year in by_year:
                days = by_year[year]
                self._schedules[year] = rules.YearSchedule(
                    year=year,
                    public_holidays=frozenset(days[Kind.PUBLIC_HOLIDAY]),
                    compensatory_days_off=frozenset(days[Kind.COMPENSATORY_DAY_OFF]),
                    extra_days_off=frozenset(days[Kind.EXTRA_DAY_OFF]),
                    working_days=frozenset(days[Kind.COMPENSATORY_WORKING_DAY]),
                )
            else:
                self._schedules[year] = rules.package_schedule(year)
                self._fallback_years.add(year)
        self._days = rules.day_sets(self._schedules.values())

    def _warn_fallback(self, year: int) -> None:
        if year in self._fallback_years and year not in self._warned:
            self._warned.add(year)
            logger.warning(
                "calendar year %s is not in the calendar table: using the statutory holidays of the holidays package "
                "(%s) with the compensation rule; enter the government's schedule for %s in the admin",
                year, PACKAGE_SOURCE, year,
            )

    # -- days ----------------------------------------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """Ngày làm việc: Monday–Friday unless a day off; a Saturday or Sunday only when declared a working day."""
        if isinstance(day, dt.datetime):
            day = rules.to_vn(day, "day").date()
        if not isinstance(day, dt.date):
            raise CalendarError(f"day must be a date, got {type(day).__name__}")
        self._ensure(day.year)
        self._warn_fallback(day.year)
        return self._days.is_working_day(day)

    # -- instants ------------------------------------------------------------------------------------------------------

    def receipt_instant(self, at: dt.datetime, hours=None, same_day: bool = False) -> dt.datetime:
        """Thời điểm tiếp nhận used for the clock (see ``calendar_rules.receipt_instant``)."""
        return rules.receipt_instant(at, self.is_working_day, rules.as_office_hours(hours), same_day)

    def add_working_hours(self, start: dt.datetime, hours, office_hours=None, pauses=None) -> dt.datetime:
        """The instant ``hours`` working hours after ``start``; time inside ``pauses`` does not count."""
        return rules.add_working_time(start, hours, self.is_working_day, rules.as_office_hours(office_hours), pauses)

    def add_working_days(self, start: dt.datetime, days, office_hours=None, pauses=None) -> dt.datetime:
        """The instant ``days`` working days (of 8 working hours) after ``start``."""
        if isinstance(days, bool) or not isinstance(days, (int, float, Decimal)):
            raise CalendarError(f"working days must be a number, got {type(days).__name__}")
        return self.add_working_hours(start, days * HOURS_PER_WORKING_DAY, office_hours, pauses)

    def working_hours_between(self, start: dt.datetime, end: dt.datetime, office_hours=None, pauses=None) -> dt.timedelta:
        """Working time elapsed from ``start`` to ``end`` minus paused intervals (overlaps count once); never negative.

        A pause whose end is None (still waiting for the applicant) runs until ``end``.
        """
        return rules.working_time_between(start, end, self.is_working_day, rules.as_office_hours(office_hours), pauses)


# -- module-level convenience: a fresh Calendar per call (never a stale cache) --------------------------------------------


def is_working_day(day: dt.date) -> bool:
    return Calendar().is_working_day(day)


def receipt_instant(at: dt.datetime, hours=None, same_day: bool = False) -> dt.datetime:
    return Calendar().receipt_instant(at, hours, same_day)


def add_working_hours(start: dt.datetime, hours, office_hours=None, pauses=None) -> dt.datetime:
    return Calendar().add_working_hours(start, hours, office_hours, pauses)


def add_working_days(start: dt.datetime, days, office_hours=None, pauses=None) -> dt.datetime:
    return Calendar().add_working_days(start, days, office_hours, pauses)


def working_hours_between(start: dt.datetime, end: dt.datetime, office_hours=None, pauses=None) -> dt.timedelta:
    return Calendar().working_hours_between(start, end, office_hours, pauses)


RECENT_MAX_AGE_SECONDS = 60
_RECENT_KEY = "kernel.calendar.recent"


def recent() -> Calendar:
    """A calendar read from the table at most RECENT_MAX_AGE_SECONDS ago (this year, the one before and the one after
    already loaded), kept in the cache: reading it again on every page was most of the back-office inbox's time. For
    flags that are only shown; a deadline that is recorded reads the table afresh (``Calendar()``)."""

    def read() -> Calendar:
        loaded = Calendar()
        loaded._ensure(rules.to_vn(timezone.now()).year)
        return loaded

    return kept(_RECENT_KEY, RECENT_MAX_AGE_SECONDS, read)


# -- seeding ----------------------------------------------------------------------------------------------------------------


@transaction.atomic
def seed_calendar(years: Iterable[int]) -> list[int]:
    """Fill the table from the ``holidays`` package for years not seeded yet; return the years seeded.

    Idempotent: a year already seeded is left alone, so an administrator's later edits (a day removed, a day added)
    survive a re-run. A year an administrator created by hand gets the package days it lacks, never overwriting a row.
    """
    seeded = []
    for year in sorted({int(y) for y in years}):
        calendar_year, _created = CalendarYear.objects.select_for_update().get_or_create(year=year)
        if calendar_year.seeded_from:
            continue
        schedule = rules.package_schedule(year)
        names = rules.package_day_names(year)
        existing = set(calendar_year.days.values_list("date", flat=True))
        taken = set(CalendarDay.objects.filter(date__year=year).values_list("date", flat=True)) | existing
        new_rows = []
        for kind, days in (
            (Kind.PUBLIC_HOLIDAY, schedule.public_holidays),
            (Kind.COMPENSATORY_DAY_OFF, schedule.compensatory_days_off),
            (Kind.EXTRA_DAY_OFF, schedule.extra_days_off),
            (Kind.COMPENSATORY_WORKING_DAY, schedule.working_days),
        ):
            for day in sorted(days):
                if day not in taken:
                    new_rows.append(CalendarDay(calendar_year=calendar_year, date=day, kind=kind, name=names.get(day, "")[:120]))
        CalendarDay.objects.bulk_create(new_rows)
        calendar_year.seeded_from = PACKAGE_SOURCE
        if not calendar_year.source:
            calendar_year.source = PACKAGE_SOURCE
        calendar_year.save(update_fields=["seeded_from", "source"])
        seeded.append(year)
    if seeded:
        ledger.append("calendar.seeded", partition="platform", payload={"years": seeded, "source": PACKAGE_SOURCE})
    return seeded
