"""Working-day calendar rules (lịch ngày làm việc): pure functions, no database, no clock.

Legal base (see DOMAIN.md, "Deadlines"):
- working days are Monday–Friday minus public holidays (Labour Code 2019 Art. 112), minus the extra days off and plus the
  compensatory working days (ngày làm bù) of the government's yearly schedule;
- a public holiday that falls on a weekly rest day is compensated on the next working day (Art. 111, nghỉ bù);
- working time counts only inside office hours (giờ hành chính); 8 working hours make one working day;
- the receipt instant (thời điểm tiếp nhận) moves to the start of the next working period when a dossier arrives outside
  office hours or on a day off and, for procedures resolved within the day, when it arrives after the cut-off.

The day predicate (``is_working_day``) is passed in, so these rules work on any calendar: the database-backed one in
``egov.kernel.calendar`` or the statutory one computed from the ``holidays`` package (``package_schedule``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# 8 working hours make one working day: durations in working days are stored as working hours (DOMAIN.md).
HOURS_PER_WORKING_DAY = 8

# Same-day cut-off: a same-day procedure received after 15:00 counts from the next working day.
# This is effective-dated legal configuration (Decree 118/2025 today), kept in this one place; when the rule changes,
# turn it into a dated setting rather than editing the constant in place.
SAME_DAY_CUTOFF = dt.time(15, 0)

# A calendar with no working day for ten years is a data error (an administrator marked everything off), not a reason
# to loop for ever.
MAX_DAYS_WITHOUT_WORK = 3660

SATURDAY, SUNDAY = 5, 6

DayPredicate = Callable[[dt.date], bool]
Pause = tuple[dt.datetime, dt.datetime | None]


class CalendarError(ValueError):
    """Input a deadline cannot be computed from (naive datetime, negative duration, inverted pause...)."""


# --------------------------------------------------------------------------------------------------------------------
# Office hours
# --------------------------------------------------------------------------------------------------------------------


def _as_time(value: dt.time | str) -> dt.time:
    # An unsaved Agency still holds its field defaults as strings ("07:30").
    return dt.time.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class OfficeHours:
    """Giờ làm việc: two periods a day, morning and afternoon. Default 07:30–11:30 and 13:00–17:00."""

    morning_opens: dt.time = dt.time(7, 30)
    morning_closes: dt.time = dt.time(11, 30)
    afternoon_opens: dt.time = dt.time(13, 0)
    afternoon_closes: dt.time = dt.time(17, 0)
    same_day_cutoff: dt.time = SAME_DAY_CUTOFF

    def __post_init__(self):
        for name in ("morning_opens", "morning_closes", "afternoon_opens", "afternoon_closes", "same_day_cutoff"):
            object.__setattr__(self, name, _as_time(getattr(self, name)))
        if not (self.morning_opens < self.morning_closes <= self.afternoon_opens < self.afternoon_closes):
            raise CalendarError(
                f"office hours must be increasing: morning {self.morning_opens}–{self.morning_closes}, "
                f"afternoon {self.afternoon_opens}–{self.afternoon_closes}"
            )

    @classmethod
    def for_agency(cls, agency) -> OfficeHours:
        """The office hours an agency (``egov.registries.models.Agency``) has configured."""
        return cls(
            morning_opens=agency.morning_opens,
            morning_closes=agency.morning_closes,
            afternoon_opens=agency.afternoon_opens,
            afternoon_closes=agency.afternoon_closes,
        )

    def periods(self, day: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
        """The day's two working periods as aware instants in Asia/Ho_Chi_Minh."""
        def at(moment: dt.time) -> dt.datetime:
            return dt.datetime.combine(day, moment, tzinfo=VN_TZ)

        return (
            (at(self.morning_opens), at(self.morning_closes)),
            (at(self.afternoon_opens), at(self.afternoon_closes)),
        )


def as_office_hours(value) -> OfficeHours:
    """Accept OfficeHours, an Agency (anything with the four time fields) or None (the default hours)."""
    if value is None:
        return OfficeHours()
    if isinstance(value, OfficeHours):
        return value
    return OfficeHours.for_agency(value)


# --------------------------------------------------------------------------------------------------------------------
# Days: the yearly schedule and the compensation rule
# --------------------------------------------------------------------------------------------------------------------


def is_weekly_rest_day(day: dt.date) -> bool:
    """Saturday and Sunday are the weekly rest days of the public sector (40-hour week)."""
    return day.weekday() in (SATURDAY, SUNDAY)


@dataclass(frozen=True)
class YearSchedule:
    """One year's days as the calendar table (or the fallback) gives them.

    public_holidays: statutory holidays (Art. 112), on whatever weekday they fall;
    compensatory_days_off: nghỉ bù already decided (Art. 111), on weekdays;
    extra_days_off: further days off of the government's schedule (e.g. Tết bridges, swapped days);
    working_days: weekly rest days declared working days (ngày làm bù).
    """

    year: int
    public_holidays: frozenset[dt.date] = frozenset()
    compensatory_days_off: frozenset[dt.date] = frozenset()
    extra_days_off: frozenset[dt.date] = frozenset()
    working_days: frozenset[dt.date] = frozenset()


@dataclass(frozen=True)
class DaySets:
    """What a calendar needs to answer ``is_working_day``: days off and rest days declared working."""

    days_off: frozenset[dt.date]
    working_days: frozenset[dt.date]

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working_days:
            return True
        return not is_weekly_rest_day(day) and day not in self.days_off


def compensation_days(
    public_holidays: Iterable[dt.date],
    compensatory_days_off: Iterable[dt.date],
    extra_days_off: Iterable[dt.date],
    working_days: Iterable[dt.date],
) -> frozenset[dt.date]:
    """Art. 111: the compensation days still missing, on the next working days.

    Counted per block of consecutive closed days (rest days and days off): each public holiday on a rest day needs one
    weekday of compensation in its block. Compensation already present in the block (the ``holidays`` package adds
    observed days, an administrator may enter them) is counted first, so the rule never compensates twice. Extra days
    off do not count as compensation: they are a separate decision of the government (usually swapped for a working
    Saturday).
    """
    public_holidays = frozenset(public_holidays)
    compensatory = frozenset(compensatory_days_off)
    working_days = frozenset(working_days)
    off = public_holidays | compensatory | frozenset(extra_days_off)

    def closed(day: dt.date) -> bool:  # closed before any compensation is added by this rule
        return day in off or (is_weekly_rest_day(day) and day not in working_days)

    one = dt.timedelta(days=1)
    on_rest_day = sorted(h for h in public_holidays if is_weekly_rest_day(h) and h not in working_days)
    added: set[dt.date] = set()
    done: set[dt.date] = set()
    for holiday in on_rest_day:
        if holiday in done:
            continue
        start = end = holiday
        while closed(start - one):
            start -= one
        while closed(end + one):
            end += one
        needed = [h for h in on_rest_day if start <= h <= end]
        done.update(needed)
        given = [c for c in compensatory if start <= c <= end and not is_weekly_rest_day(c)]
        missing = len(needed) - len(given)
        day = end + one
        while missing > 0:
            if not closed(day) and day not in added:
                added.add(day)
                missing -= 1
            day += one
    return frozenset(added)


def day_sets(schedules: Iterable[YearSchedule]) -> DaySets:
    """Merge yearly schedules and apply the compensation rule across them (a block may cross New Year)."""
    schedules = list(schedules)
    public = frozenset().union(*(s.public_holidays for s in schedules))
    compensatory = frozenset().union(*(s.compensatory_days_off for s in schedules))
    extra = frozenset().union(*(s.extra_days_off for s in schedules))
    working = frozenset().union(*(s.working_days for s in schedules))
    added = compensation_days(public, compensatory, extra, working)
    return DaySets(days_off=public | compensatory | extra | added, working_days=working)


_SUBSTITUTED_PREFIX = "Day off (substituted from"  # holidays 0.109, language en_US: a swapped day off


def package_schedule(year: int) -> YearSchedule:
    """The year as the pinned ``holidays`` package knows it (Vietnam, Tết included).

    The package already adds observed days (its own reading of Art. 111, including the layout of Tết around weekends):
    they become ``compensatory_days_off``, so ``compensation_days`` finds nothing left to add. Days the government
    swapped (a weekday off against a working Saturday) become extra days off and compensatory working days.
    """
    raw = holidays.country_holidays("VN", years=year, observed=False, language="en_US")
    observed = holidays.country_holidays("VN", years=year, observed=True, language="en_US")
    public, extra = set(), set()
    for day, name in raw.items():
        if day.year != year:
            continue
        (extra if name.startswith(_SUBSTITUTED_PREFIX) else public).add(day)
    compensatory = {d for d in observed if d.year == year and d not in raw}
    working = {d for d in observed.weekend_workdays if d.year == year}
    return YearSchedule(
        year=year,
        public_holidays=frozenset(public),
        compensatory_days_off=frozenset(compensatory),
        extra_days_off=frozenset(extra),
        working_days=frozenset(working),
    )


def package_day_names(year: int, language: str = "vi") -> dict[dt.date, str]:
    """Holiday names from the package (Vietnamese by default), observed days included, for seeding the table."""
    named = holidays.country_holidays("VN", years=year, observed=True, language=language)
    return {day: name for day, name in named.items() if day.year == year}


# --------------------------------------------------------------------------------------------------------------------
# Instants: receipt, adding working time, measuring working time
# --------------------------------------------------------------------------------------------------------------------


def to_vn(instant: dt.datetime, what: str = "instant") -> dt.datetime:
    """The instant in Asia/Ho_Chi_Minh; naive datetimes are refused (their zone would be a guess)."""
    if not isinstance(instant, dt.datetime):
        raise CalendarError(f"{what} must be a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise CalendarError(f"{what} must be timezone-aware (got naive {instant.isoformat()})")
    return instant.astimezone(VN_TZ)


def as_duration(amount) -> dt.timedelta:
    """Working hours as a number (int, float, Decimal) or a timedelta; never negative."""
    if isinstance(amount, dt.timedelta):
        duration = amount
    elif isinstance(amount, (int, float, Decimal)) and not isinstance(amount, bool):
        duration = dt.timedelta(hours=float(amount))
    else:
        raise CalendarError(f"working hours must be a number or a timedelta, got {type(amount).__name__}")
    if duration < dt.timedelta(0):
        raise CalendarError(f"working time cannot be negative (got {amount})")
    return duration


def merge_pauses(pauses: Iterable[Pause] | None, *, open_end: dt.datetime | None = None) -> list[tuple]:
    """Sorted, non-overlapping pause intervals: overlapping or touching pauses count once.

    A pause without an end (the applicant has not answered yet) runs until ``open_end``; where no end is known (adding
    time) such a pause is refused, because no deadline exists while the clock is stopped indefinitely.
    """
    intervals = []
    for index, pause in enumerate(pauses or ()):
        try:
            begin, finish = pause
        except (TypeError, ValueError):
            raise CalendarError(f"pause {index} must be a (start, end) pair") from None
        begin = to_vn(begin, f"pause {index} start")
        if finish is None:
            if open_end is None:
                raise CalendarError(f"pause {index} has no end: no deadline can be computed while the clock is stopped")
            finish = max(begin, open_end)
        finish = to_vn(finish, f"pause {index} end")
        if finish < begin:
            raise CalendarError(f"pause {index} ends ({finish.isoformat()}) before it starts ({begin.isoformat()})")
        intervals.append((begin, finish))
    intervals.sort()
    merged: list[list] = []
    for begin, finish in intervals:
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], finish)
        else:
            merged.append([begin, finish])
    return [(b, f) for b, f in merged]


def _unpaused(start: dt.datetime, end: dt.datetime, pauses: list[tuple]) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The parts of [start, end) not covered by the (merged, sorted) pauses."""
    cursor = start
    for begin, finish in pauses:
        if finish <= cursor:
            continue
        if begin >= end:
            break
        if begin > cursor:
            yield cursor, begin
        cursor = max(cursor, finish)
        if cursor >= end:
            return
    if cursor < end:
        yield cursor, end


def working_periods(
    start: dt.datetime, is_working_day: DayPredicate, hours: OfficeHours
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Working periods from ``start`` onwards (the first one clipped to start), for ever."""
    start = to_vn(start, "start")
    day = start.date()
    idle = 0
    while True:
        if is_working_day(day):
            idle = 0
            for opens, closes in hours.periods(day):
                if closes > start:
                    yield max(opens, start), closes
        else:
            idle += 1
            if idle > MAX_DAYS_WITHOUT_WORK:
                raise CalendarError(f"no working day in the {MAX_DAYS_WITHOUT_WORK} days before {day.isoformat()}")
        day += dt.timedelta(days=1)


def receipt_instant(
    at: dt.datetime, is_working_day: DayPredicate, hours: OfficeHours = OfficeHours(), same_day: bool = False
) -> dt.datetime:
    """Thời điểm tiếp nhận: ``at`` itself inside office hours, else the start of the next working period.

    For a procedure resolved within the day (``same_day``), a dossier that arrives on a working day after the cut-off
    counts from the start of the next working day.
    """
    at = to_vn(at, "at")
    if same_day and at.time() > hours.same_day_cutoff:
        next_day = dt.datetime.combine(at.date() + dt.timedelta(days=1), dt.time(0), tzinfo=VN_TZ)
        return next(working_periods(next_day, is_working_day, hours))[0]
    return next(working_periods(at, is_working_day, hours))[0]


def add_working_time(
    start: dt.datetime,
    amount,
    is_working_day: DayPredicate,
    hours: OfficeHours = OfficeHours(),
    pauses: Iterable[Pause] | None = None,
) -> dt.datetime:
    """The instant at which ``amount`` of working time has elapsed since ``start`` (paused intervals do not count).

    A deadline that falls exactly at the end of a period is that end (17:00), not the next morning.
    """
    duration = as_duration(amount)
    merged = merge_pauses(pauses)
    if duration == dt.timedelta(0):
        return receipt_instant(start, is_working_day, hours)
    remaining = duration
    for opens, closes in working_periods(start, is_working_day, hours):
        for begin, finish in _unpaused(opens, closes, merged):
            if finish - begin >= remaining:
                return begin + remaining
            remaining -= finish - begin
    raise AssertionError("unreachable: working_periods never ends")  # pragma: no cover


def working_time_between(
    start: dt.datetime,
    end: dt.datetime,
    is_working_day: DayPredicate,
    hours: OfficeHours = OfficeHours(),
    pauses: Iterable[Pause] | None = None,
) -> dt.timedelta:
    """Working time elapsed from ``start`` to ``end`` minus paused intervals; zero when end is not after start."""
    start, end = to_vn(start, "start"), to_vn(end, "end")
    merged = merge_pauses(pauses, open_end=end)
    total = dt.timedelta(0)
    if end <= start:
        return total
    for opens, closes in working_periods(start, is_working_day, hours):
        if opens >= end:
            break
        for begin, finish in _unpaused(opens, min(closes, end), merged):
            total += finish - begin
    return total
