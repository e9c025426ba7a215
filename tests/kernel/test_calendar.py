"""Working-day calendar over the table: expected dates are written out by hand, never computed by the holidays package."""
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest

from egov.kernel import calendar
from egov.kernel.calendar import Calendar, OfficeHours, seed_calendar
from egov.kernel.calendar_models import CalendarDay, CalendarYear
from egov.kernel.ledger_models import Event
from tests.kernel.conftest import vn

D = dt.date.fromisoformat
H = dt.timedelta(hours=1)


# --- Tết 2026 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, working",
    [
        ("2026-02-13", True),   # Friday before Tết
        ("2026-02-14", False),  # Saturday, announced as part of Tết
        ("2026-02-16", False),  # Monday, 29 Tết
        ("2026-02-17", False),  # Mùng một
        ("2026-02-20", False),  # Friday, Mùng bốn
        ("2026-02-22", False),  # Sunday
        ("2026-02-23", True),   # Monday, back to work
    ],
)
def test_tet_2026_days(calendar_2026, day, working):
    assert calendar_2026.is_working_day(D(day)) is working


def test_received_friday_evening_before_tet_2026_counts_from_monday_23_february(calendar_2026):
    assert calendar_2026.receipt_instant(vn("2026-02-13 17:30")) == vn("2026-02-23 07:30")


def test_one_working_day_received_before_tet_2026_is_due_monday_23_february_at_close(calendar_2026):
    assert calendar_2026.add_working_days(vn("2026-02-13 17:30"), 1) == vn("2026-02-23 17:00")
    assert calendar_2026.add_working_days(vn("2026-02-13 16:00"), 1) == vn("2026-02-23 16:00")


# --- Art. 111: a holiday on a Sunday is compensated on the Monday --------------------------------------------------------

# Hùng Kings' day, 10/3 lunar, falls on Sunday 26 April 2026: compensated on Monday 27 April; Tuesday 28 is a working day.


def test_hung_kings_day_2026_on_sunday_compensated_on_monday_seeded(calendar_2026):
    assert calendar_2026.is_working_day(D("2026-04-26")) is False
    assert calendar_2026.is_working_day(D("2026-04-27")) is False
    assert calendar_2026.is_working_day(D("2026-04-28")) is True
    assert calendar_2026.receipt_instant(vn("2026-04-24 17:05")) == vn("2026-04-28 07:30")


@pytest.mark.django_db
def test_holiday_entered_by_hand_on_sunday_is_compensated_once_by_the_rule():
    """The administrator enters only the holiday: the rule adds Monday; a second entry of Monday does not add Tuesday."""
    year = CalendarYear.objects.create(year=2026, announced=True)
    CalendarDay.objects.create(calendar_year=year, date=D("2026-04-26"), kind=CalendarDay.Kind.PUBLIC_HOLIDAY)
    cal = Calendar()
    assert [cal.is_working_day(D(d)) for d in ("2026-04-24", "2026-04-27", "2026-04-28")] == [True, False, True]

    CalendarDay.objects.create(calendar_year=year, date=D("2026-04-27"), kind=CalendarDay.Kind.COMPENSATORY_DAY_OFF)
    cal = Calendar()
    assert [cal.is_working_day(D(d)) for d in ("2026-04-27", "2026-04-28")] == [False, True]


@pytest.mark.django_db
def test_holidays_on_sunday_and_monday_push_compensation_to_tuesday():
    """30 April 2028 is a Sunday and 1 May 2028 a Monday (itself a holiday): compensation falls on Tuesday 2 May."""
    year = CalendarYear.objects.create(year=2028)
    for day in ("2028-04-30", "2028-05-01"):
        CalendarDay.objects.create(calendar_year=year, date=D(day), kind=CalendarDay.Kind.PUBLIC_HOLIDAY)
    cal = Calendar()
    assert [cal.is_working_day(D(d)) for d in ("2028-05-01", "2028-05-02", "2028-05-03")] == [False, False, True]


# --- Compensatory working Saturday ------------------------------------------------------------------------------------

# 2025: Friday 2 May off, swapped for Saturday 26 April 2025, which was a working day.


def test_compensatory_working_saturday_2025_counts(calendar_2026):
    assert calendar_2026.is_working_day(D("2025-04-26")) is True
    assert calendar_2026.is_working_day(D("2025-05-02")) is False
    # Received Friday 25 April 16:00: one hour on Friday, seven on Saturday.
    assert calendar_2026.add_working_days(vn("2025-04-25 16:00"), 1) == vn("2025-04-26 16:00")


@pytest.mark.django_db
def test_saturday_declared_working_day_by_the_administrator():
    year = CalendarYear.objects.create(year=2026, announced=True)
    CalendarDay.objects.create(calendar_year=year, date=D("2026-06-13"), kind=CalendarDay.Kind.COMPENSATORY_WORKING_DAY)
    cal = Calendar()
    assert cal.is_working_day(D("2026-06-13")) is True
    assert cal.is_working_day(D("2026-06-14")) is False
    assert cal.receipt_instant(vn("2026-06-12 18:00")) == vn("2026-06-13 07:30")


# --- Receipt instant ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "at, same_day, expected",
    [
        ("2026-03-10 09:15", False, "2026-03-10 09:15"),  # Tuesday, office open: unchanged
        ("2026-03-10 06:50", False, "2026-03-10 07:30"),  # before opening
        ("2026-03-10 11:30", False, "2026-03-10 13:00"),  # at lunch (closing instant belongs to the break)
        ("2026-03-10 12:10", False, "2026-03-10 13:00"),  # at lunch
        ("2026-03-10 17:00", False, "2026-03-11 07:30"),  # at closing
        ("2026-03-10 19:45", False, "2026-03-11 07:30"),  # after hours
        ("2026-03-06 17:30", False, "2026-03-09 07:30"),  # Friday evening: Monday
        ("2026-03-07 10:00", False, "2026-03-09 07:30"),  # Saturday
        ("2026-03-08 10:00", False, "2026-03-09 07:30"),  # Sunday
        ("2026-03-10 14:59", True, "2026-03-10 14:59"),   # same-day procedure before the cut-off
        ("2026-03-10 15:00", True, "2026-03-10 15:00"),   # at the cut-off: not after it
        ("2026-03-10 15:01", True, "2026-03-11 07:30"),   # same-day procedure after 15:00
        ("2026-03-06 15:30", True, "2026-03-09 07:30"),   # Friday after 15:00: Monday
        ("2026-03-10 15:30", False, "2026-03-10 15:30"),  # ordinary procedure: the cut-off does not apply
    ],
)
def test_receipt_instant(calendar_2026, at, same_day, expected):
    assert calendar_2026.receipt_instant(vn(at), same_day=same_day) == vn(expected)


def test_receipt_instant_accepts_any_zone_and_answers_in_vietnam(calendar_2026):
    at = dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.UTC)  # 17:30 in Hà Nội
    result = calendar_2026.receipt_instant(at)
    assert result == vn("2026-03-11 07:30")
    assert result.tzinfo == ZoneInfo("Asia/Ho_Chi_Minh")
    assert result.utcoffset() == dt.timedelta(hours=7)


def test_naive_datetime_is_refused_with_a_clear_message(calendar_2026):
    with pytest.raises(calendar.CalendarError, match="timezone-aware"):
        calendar_2026.receipt_instant(dt.datetime(2026, 3, 10, 9, 0))


# --- Adding working time ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, days, expected",
    [
        ("2026-03-06 14:00", 1, "2026-03-09 14:00"),  # Friday + 1 crosses the weekend
        ("2026-03-06 17:30", 1, "2026-03-09 17:00"),  # received after hours: Monday counts, due at close
        ("2026-03-09 07:30", 1, "2026-03-09 17:00"),  # a full day
        ("2026-03-09 07:30", 5, "2026-03-13 17:00"),  # a week
        ("2026-03-09 10:00", 0.5, "2026-03-09 15:30"),  # four hours across lunch: 1.5 h + 2.5 h
        ("2026-04-29 10:00", 2, "2026-05-05 10:00"),  # across 30 April (Thu), 1 May (Fri) and the weekend
    ],
)
def test_add_working_days(calendar_2026, start, days, expected):
    assert calendar_2026.add_working_days(vn(start), days) == vn(expected)


def test_add_working_hours_in_agency_office_hours(calendar_2026):
    hours = OfficeHours(dt.time(8, 0), dt.time(12, 0), dt.time(13, 30), dt.time(17, 30))
    assert calendar_2026.add_working_hours(vn("2026-03-10 11:00"), 2, hours) == vn("2026-03-10 14:30")
    assert calendar_2026.receipt_instant(vn("2026-03-10 07:45"), hours) == vn("2026-03-10 08:00")


@pytest.mark.django_db
def test_office_hours_for_agency():
    from egov.registries.models import Agency

    agency = Agency(code="000.00.00.H29", name="Test", morning_opens=dt.time(8), morning_closes=dt.time(12),
                    afternoon_opens=dt.time(13, 30), afternoon_closes=dt.time(17, 30))
    assert OfficeHours.for_agency(agency) == OfficeHours(dt.time(8), dt.time(12), dt.time(13, 30), dt.time(17, 30))
    assert OfficeHours.for_agency(Agency(code="x", name="Defaults")) == OfficeHours()
    assert calendar.receipt_instant(vn("2026-03-10 12:45"), agency) == vn("2026-03-10 13:30")


def test_add_working_hours_with_pause(calendar_2026):
    # 8 h from Monday 07:30, paused Monday 13:00 to Tuesday 13:00 (a supplement request): due Tuesday 17:00.
    pauses = [(vn("2026-03-09 13:00"), vn("2026-03-10 13:00"))]
    assert calendar_2026.add_working_hours(vn("2026-03-09 07:30"), 8, pauses=pauses) == vn("2026-03-10 17:00")


# --- Working time between two instants -----------------------------------------------------------------------------


def test_working_hours_between_with_overlapping_pauses(calendar_2026):
    start, end = vn("2026-03-09 07:30"), vn("2026-03-13 17:00")  # Monday to Friday: 40 working hours
    assert calendar_2026.working_hours_between(start, end) == 40 * H
    pauses = [
        (vn("2026-03-10 07:30"), vn("2026-03-10 17:00")),  # Tuesday, 8 h
        (vn("2026-03-10 15:00"), vn("2026-03-11 09:30")),  # overlaps Tuesday, adds Wednesday 07:30–09:30: 2 h
        (vn("2026-03-14 08:00"), vn("2026-03-15 12:00")),  # weekend: nothing
    ]
    assert calendar_2026.working_hours_between(start, end, pauses=pauses) == 30 * H


def test_working_hours_between_open_pause_runs_to_the_end(calendar_2026):
    pauses = [(vn("2026-03-09 13:00"), None)]  # still waiting for the applicant
    assert calendar_2026.working_hours_between(vn("2026-03-09 07:30"), vn("2026-03-11 17:00"), pauses=pauses) == 4 * H


def test_working_hours_between_across_tet_and_reversed(calendar_2026):
    assert calendar_2026.working_hours_between(vn("2026-02-13 16:00"), vn("2026-02-23 08:30")) == 2 * H
    assert calendar_2026.working_hours_between(vn("2026-02-23 08:30"), vn("2026-02-13 16:00")) == dt.timedelta(0)


def test_inverted_pause_is_refused(calendar_2026):
    with pytest.raises(calendar.CalendarError, match="ends .* before it starts"):
        calendar_2026.working_hours_between(vn("2026-03-09 07:30"), vn("2026-03-10 17:00"),
                                            pauses=[(vn("2026-03-10 09:00"), vn("2026-03-09 09:00"))])


# --- Unannounced year: fallback, warning, no failure ------------------------------------------------------------------


@pytest.mark.django_db
def test_unannounced_year_falls_back_to_statutory_holidays_and_warns(caplog):
    caplog.set_level(logging.WARNING, logger="egov.calendar")
    cal = Calendar()
    # Tết 2031: 29 Tết Tuesday 21 January to Mùng năm Monday 27 January; 1 January 2031 is a Wednesday.
    assert cal.is_working_day(D("2031-01-01")) is False
    assert cal.is_working_day(D("2031-01-20")) is True
    assert cal.is_working_day(D("2031-01-21")) is False
    assert cal.is_working_day(D("2031-01-27")) is False
    assert cal.receipt_instant(vn("2031-01-20 17:30")) == vn("2031-01-28 07:30")
    warnings = [r for r in caplog.records if r.name == "egov.calendar" and r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per year and instance, not once per day
    assert "2031" in warnings[0].getMessage()


@pytest.mark.django_db
def test_deadline_crossing_into_an_unannounced_year_does_not_fail(caplog):
    caplog.set_level(logging.WARNING, logger="egov.calendar")
    seed_calendar([2030])
    # Monday 30 December 2030 07:30 + 3 working days: 30 and 31 December, then 1 January 2031 is a holiday, so the
    # third day is Thursday 2 January 2031.
    assert calendar.add_working_days(vn("2030-12-30 07:30"), 3) == vn("2031-01-02 17:00")
    assert any("2031" in r.getMessage() for r in caplog.records if r.name == "egov.calendar")


# --- Seeding and freshness ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_is_idempotent_and_keeps_admin_edits():
    assert seed_calendar([2026]) == [2026]
    year = CalendarYear.objects.get(year=2026)
    assert year.seeded_from.startswith("holidays ")
    assert CalendarDay.objects.get(date=D("2026-02-17")).kind == CalendarDay.Kind.PUBLIC_HOLIDAY
    assert CalendarDay.objects.get(date=D("2026-04-27")).kind == CalendarDay.Kind.COMPENSATORY_DAY_OFF
    assert CalendarDay.objects.get(date=D("2026-08-31")).kind == CalendarDay.Kind.EXTRA_DAY_OFF
    assert CalendarDay.objects.get(date=D("2026-08-22")).kind == CalendarDay.Kind.COMPENSATORY_WORKING_DAY
    count = CalendarDay.objects.count()
    CalendarDay.objects.filter(date=D("2026-11-24")).delete()  # the administrator removes a day

    assert seed_calendar([2026]) == []
    assert CalendarDay.objects.count() == count - 1
    assert not CalendarDay.objects.filter(date=D("2026-11-24")).exists()
    assert Event.objects.filter(event_type="calendar.seeded").count() == 1


@pytest.mark.django_db
def test_seed_no_double_count_of_package_observed_days():
    """The package already adds observed days: seeded 2026 gives one compensation day for Hùng Kings', not two."""
    seed_calendar([2026])
    cal = Calendar()
    assert [cal.is_working_day(D(d)) for d in ("2026-04-27", "2026-04-28")] == [False, True]


@pytest.mark.django_db
def test_new_calendar_instance_sees_admin_edit():
    seed_calendar([2026])
    before = Calendar()
    assert before.is_working_day(D("2026-03-10")) is True
    CalendarDay.objects.create(calendar_year=CalendarYear.objects.get(year=2026), date=D("2026-03-10"),
                               kind=CalendarDay.Kind.EXTRA_DAY_OFF)
    assert Calendar().is_working_day(D("2026-03-10")) is False
    assert calendar.is_working_day(D("2026-03-10")) is False


def test_a_year_is_loaded_in_two_queries_then_cached(calendar_2026, django_assert_num_queries):
    cal = Calendar()
    with django_assert_num_queries(2):
        cal.add_working_days(vn("2026-01-05 07:30"), 120)  # about half a year, day by day
    with django_assert_num_queries(0):
        cal.working_hours_between(vn("2026-01-05 07:30"), vn("2026-12-31 17:00"))
