"""Calendar admin: a year with its days inline; wrong days are refused with a message naming the problem."""
import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

from egov.kernel.calendar_models import CalendarDay, CalendarYear
from egov.kernel.ledger_models import Event

D = dt.date.fromisoformat


def year_form(year="2026", days=(), **extra):
    """The admin change form's POST data: the year and its inline days."""
    data = {
        "year": year, "announced": "on", "source": "Announcement",
        "days-TOTAL_FORMS": str(len(days)), "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0", "days-MAX_NUM_FORMS": "1000",
    }
    for i, (day, kind) in enumerate(days):
        data.update({f"days-{i}-date": day, f"days-{i}-kind": kind, f"days-{i}-name": ""})
    data.update(extra)
    return data


@pytest.fixture
def admin_client(client, admin_user):
    """A superuser who has passed the TOTP step, so the admin lets them in whether or not it requires a second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=admin_user, name="test", confirmed=True)
    client.force_login(admin_user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the visitor's chosen language; Vietnamese otherwise
    return client


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_admin_creates_year_with_days_and_records_an_event(admin_client):
    response = admin_client.post("/admin/kernel/calendaryear/add/",
                                 year_form(days=[("2026-06-13", "working"), ("2026-06-12", "extra_off")]))
    assert response.status_code == 302, response.content.decode()[:2000]
    year = CalendarYear.objects.get(year=2026)
    assert set(year.days.values_list("date", "kind")) == {(D("2026-06-13"), "working"), (D("2026-06-12"), "extra_off")}
    event = Event.objects.get(event_type="calendar.year_created")
    assert event.payload["days_changed"] == ["2026-06-12", "2026-06-13"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day, kind, message",
    [
        ("2026-06-10", "working", "a compensatory working day must be a Saturday or a Sunday"),
        ("2026-06-13", "compensatory_off", "a compensatory day off must be a weekday"),
        ("2027-01-04", "extra_off", "is not in 2026"),
    ],
)
def test_admin_refuses_wrong_days_with_a_clear_message(admin_client, english, day, kind, message):
    response = admin_client.post("/admin/kernel/calendaryear/add/", year_form(days=[(day, kind)]),
                                 headers={"accept-language": "en"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CalendarYear.objects.exists()


@pytest.mark.django_db
def test_admin_refuses_the_same_date_twice(admin_client, english):
    response = admin_client.post("/admin/kernel/calendaryear/add/",
                                 year_form(days=[("2026-06-12", "extra_off"), ("2026-06-12", "holiday")]),
                                 headers={"accept-language": "en"})
    assert response.status_code == 200
    assert "Please correct the duplicate data for date." in response.content.decode()


@pytest.mark.django_db
def test_model_validation_messages(english):
    year = CalendarYear(year=2026)
    with pytest.raises(ValidationError) as refused:
        CalendarDay(calendar_year=year, date=D("2026-06-10"), kind=CalendarDay.Kind.COMPENSATORY_WORKING_DAY).clean()
    assert "10/06/2026 is a weekday" in str(refused.value)
    with pytest.raises(ValidationError, match="between 1990 and 2200"):
        CalendarYear(year=3000).clean()
