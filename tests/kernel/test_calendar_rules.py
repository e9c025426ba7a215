"""Pure calendar rules: the compensation rule, office hours, and properties of deadlines (no database)."""
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egov.kernel import calendar_rules as rules
from egov.kernel.calendar_rules import CalendarError, OfficeHours
from tests.kernel.conftest import vn

D = dt.date.fromisoformat
H = dt.timedelta(hours=1)

# The statutory calendar of the pinned package for the years the properties wander through.
STATUTORY = rules.day_sets(rules.package_schedule(y) for y in range(2024, 2034))
is_working_day = STATUTORY.is_working_day


# --- Art. 111 compensation rule -----------------------------------------------------------------------------------------


def test_holiday_on_sunday_compensated_on_monday():
    # Hùng Kings' day 2026 is Sunday 26 April.
    assert rules.compensation_days([D("2026-04-26")], [], [], []) == {D("2026-04-27")}


def test_holiday_on_saturday_compensated_on_monday():
    # 1 January 2028 is a Saturday.
    assert rules.compensation_days([D("2028-01-01")], [], [], []) == {D("2028-01-03")}


def test_compensation_skips_following_holiday():
    # 30 April 2028 (Sunday) and 1 May 2028 (Monday).
    assert rules.compensation_days([D("2028-04-30"), D("2028-05-01")], [], [], []) == {D("2028-05-02")}


def test_compensation_already_given_is_not_repeated():
    assert rules.compensation_days([D("2026-04-26")], [D("2026-04-27")], [], []) == set()


def test_extra_day_off_is_not_taken_as_compensation():
    # A bridge day on Monday is a separate decision: the Sunday holiday still earns Tuesday.
    assert rules.compensation_days([D("2026-04-26")], [], [D("2026-04-27")], []) == {D("2026-04-28")}


def test_tet_block_with_two_weekend_days_needs_two_compensation_days():
    # Tết 2024 by the statute alone: Friday 9 to Tuesday 13 February, Saturday and Sunday inside: Wednesday and Thursday.
    tet = [D("2024-02-09"), D("2024-02-10"), D("2024-02-11"), D("2024-02-12"), D("2024-02-13")]
    assert rules.compensation_days(tet, [], [], []) == {D("2024-02-14"), D("2024-02-15")}
    # As the government laid it out (and the package has it): Thursday 8 and Wednesday 14. Nothing more to add.
    assert rules.compensation_days(tet, [D("2024-02-08"), D("2024-02-14")], [], []) == set()


@pytest.mark.parametrize("year", range(2020, 2041))
def test_package_observed_days_are_never_counted_twice(year):
    schedule = rules.package_schedule(year)
    assert rules.compensation_days(
        schedule.public_holidays, schedule.compensatory_days_off, schedule.extra_days_off, schedule.working_days
    ) == set()


def test_package_schedule_2025_swap():
    schedule = rules.package_schedule(2025)
    assert D("2025-05-02") in schedule.extra_days_off
    assert schedule.working_days == {D("2025-04-26")}
    assert D("2025-01-27") in schedule.compensatory_days_off  # 29 Tết, for Mùng bốn on Saturday 1 February


# --- Office hours -----------------------------------------------------------------------------------------------------


def test_office_hours_must_increase():
    with pytest.raises(CalendarError, match="increasing"):
        OfficeHours(dt.time(13, 0), dt.time(11, 30), dt.time(13, 0), dt.time(17, 0))


def test_office_hours_accept_strings_as_unsaved_agencies_hold_them():
    assert OfficeHours("07:30", "11:30", "13:00", "17:00") == OfficeHours()


def test_negative_and_non_numeric_durations_are_refused():
    with pytest.raises(CalendarError, match="negative"):
        rules.add_working_time(vn("2026-03-09 07:30"), -1, is_working_day)
    with pytest.raises(CalendarError, match="number or a timedelta"):
        rules.add_working_time(vn("2026-03-09 07:30"), "8", is_working_day)


def test_adding_with_an_open_pause_is_refused():
    with pytest.raises(CalendarError, match="no end"):
        rules.add_working_time(vn("2026-03-09 07:30"), 8, is_working_day, pauses=[(vn("2026-03-09 08:00"), None)])


def test_overlapping_and_touching_pauses_merge():
    a, b, c, d = vn("2026-03-09 08:00"), vn("2026-03-09 09:00"), vn("2026-03-09 10:00"), vn("2026-03-09 11:00")
    assert rules.merge_pauses([(c, d), (a, c), (b, c)]) == [(a, d)]


# --- Properties -------------------------------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31),
    timezones=st.sampled_from([rules.VN_TZ, dt.UTC, dt.timezone(dt.timedelta(hours=-5))]),
)
durations = st.integers(min_value=0, max_value=60 * 8 * 20).map(lambda minutes: dt.timedelta(minutes=minutes))
gaps = st.integers(min_value=0, max_value=60 * 24 * 20).map(lambda minutes: dt.timedelta(minutes=minutes))


@settings(max_examples=200, deadline=None)
@given(start=instants, later=gaps, amount=durations)
def test_later_start_never_gives_earlier_deadline(start, later, amount):
    assert rules.add_working_time(start + later, amount, is_working_day) >= rules.add_working_time(
        start, amount, is_working_day
    )


@settings(max_examples=200, deadline=None)
@given(start=instants, amount=durations)
def test_add_then_measure_gives_back_the_amount(start, amount):
    deadline = rules.add_working_time(start, amount, is_working_day)
    received = rules.receipt_instant(start, is_working_day)
    assert rules.working_time_between(received, deadline, is_working_day) == amount
    assert rules.working_time_between(start, deadline, is_working_day) == amount
    assert deadline.tzinfo == rules.VN_TZ


@settings(max_examples=200, deadline=None)
@given(start=instants, amount=durations, pause_start=gaps, pause_length=gaps, end=gaps)
def test_a_pause_never_brings_a_deadline_earlier_nor_adds_working_time(start, amount, pause_start, pause_length, end):
    pause = (start + pause_start, start + pause_start + pause_length)
    assert rules.add_working_time(start, amount, is_working_day, pauses=[pause]) >= rules.add_working_time(
        start, amount, is_working_day
    )
    stop = start + end
    assert rules.working_time_between(start, stop, is_working_day, pauses=[pause]) <= rules.working_time_between(
        start, stop, is_working_day
    )


@settings(max_examples=200, deadline=None)
@given(a=instants, b=instants, pause_a=instants, pause_b=instants)
def test_measured_time_is_never_negative(a, b, pause_a, pause_b):
    pause = (min(pause_a, pause_b), max(pause_a, pause_b))
    assert rules.working_time_between(a, b, is_working_day, pauses=[pause]) >= dt.timedelta(0)


@settings(max_examples=200, deadline=None)
@given(at=instants, same_day=st.booleans())
def test_receipt_is_inside_office_hours_on_a_working_day_and_never_earlier(at, same_day):
    received = rules.receipt_instant(at, is_working_day, same_day=same_day)
    assert received >= at
    assert is_working_day(received.date())
    assert dt.time(7, 30) <= received.time() < dt.time(11, 30) or dt.time(13, 0) <= received.time() < dt.time(17, 0)
