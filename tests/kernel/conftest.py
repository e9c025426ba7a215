"""Kernel fixtures: the working-day calendar table as an administrator would fill it."""
import datetime as dt

import pytest

from egov.kernel.calendar import Calendar, seed_calendar
from egov.kernel.calendar_models import CalendarDay, CalendarYear

VN = dt.timezone(dt.timedelta(hours=7))


def vn(text: str) -> dt.datetime:
    """A wall-clock time in Vietnam (UTC+7, no daylight saving): vn("2026-02-13 17:30")."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=VN)


@pytest.fixture
def calendar_2026(db):
    """2026 seeded from the holidays package, then completed by the administrator from the government's announcement:
    Tết off from Saturday 14 to Sunday 22 February 2026."""
    seed_calendar([2025, 2026, 2027])
    year = CalendarYear.objects.get(year=2026)
    for day in ("2026-02-14", "2026-02-15", "2026-02-21", "2026-02-22"):
        CalendarDay.objects.get_or_create(
            date=dt.date.fromisoformat(day),
            defaults={"calendar_year": year, "kind": CalendarDay.Kind.EXTRA_DAY_OFF, "name": "Tết Nguyên Đán"},
        )
    year.announced = True
    year.source = "Government announcement: Tết 2026 from 14 to 22 February"
    year.save()
    return Calendar()
