"""TOTP second factor for officers and admins: enrolment with QR code, verification, throttling, the admin."""
import pytest
from django.contrib import admin
from django.test import override_settings
from django.urls import path, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.accounts import services
from egov.accounts.admin_site import EgovAdminSite
from egov.accounts.models import Role
from egov.kernel.ledger_models import Event
from egov.urls import urlpatterns as root_urlpatterns
from tests.accounts.conftest import PASSWORD, totp_code

TOTP_URL = "/accounts/login/totp/"
ENROL_URL = "/accounts/totp/enrol/"


def test_urls():
    assert reverse("accounts:totp") == TOTP_URL and reverse("accounts:totp_enrol") == ENROL_URL


def test_new_officer_enrols_with_secret_qr_code_and_first_code(client, agencies, make_user):
    officer = make_user("desk", Role.DESK_OFFICER, agencies["justice"])
    response = client.post("/accounts/login/", {"username": "desk", "password": PASSWORD, "next": "/"})
    assert response["Location"] == f"{ENROL_URL}?next=%2F"
    page = client.get(response["Location"])
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    html = page.content.decode()
    assert services.totp_secret_base32(device) in html
    assert "otpauth://totp/" in html and "<svg" in html
    assert client.get(ENROL_URL).context["secret"] == page.context["secret"]  # reload keeps the same secret
    wrong = client.post(ENROL_URL, {"code": "000000" if totp_code(device) != "000000" else "111111", "next": "/"})
    assert wrong.status_code == 400 and "not correct" in str(wrong.context["form"].errors)
    device.refresh_from_db()
    device.throttle_reset()  # the wrong code above started django-otp's back-off
    done = client.post(ENROL_URL, {"code": totp_code(device), "next": "/"})
    assert done.status_code == 302 and done["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed
    event = Event.objects.get(event_type="account.totp_enrolled")
    assert event.partition == "000.00.12.H29" and event.payload == {"device_id": device.pk}


def test_enrolled_officer_cannot_enrol_a_second_device(client, agencies, make_user, enrolled):
    officer = make_user("desk", Role.DESK_OFFICER, agencies["justice"])
    enrolled(officer)
    client.force_login(officer)
    response = client.get(ENROL_URL)
    assert response.status_code == 302 and response["Location"].startswith(TOTP_URL)
    assert TOTPDevice.objects.filter(user=officer).count() == 1


def test_officer_verifies_with_the_current_code(client, agencies, make_user, enrolled):
    officer = make_user("desk", Role.DESK_OFFICER, agencies["justice"])
    device = enrolled(officer)
    client.post("/accounts/login/", {"username": "desk", "password": PASSWORD})
    response = client.post(TOTP_URL, {"code": totp_code(device)})
    assert response.status_code == 302
    assert Event.objects.filter(event_type="account.totp_verified").count() == 1
    # The session is now verified: the TOTP step lets the officer straight through.
    assert client.get(TOTP_URL).status_code == 302


@pytest.mark.parametrize("code, message", [("12345", "6-digit"), ("abcdef", "6-digit"), ("", "required")])
def test_malformed_code_gets_a_specific_message(client, agencies, make_user, enrolled, code, message):
    officer = make_user("desk", Role.DESK_OFFICER, agencies["justice"])
    enrolled(officer)
    client.force_login(officer)
    response = client.post(TOTP_URL, {"code": code})
    assert response.status_code == 400 and message in str(response.context["form"].errors)


def test_wrong_codes_are_throttled_in_the_database(client, agencies, make_user, enrolled):
    officer = make_user("desk", Role.DESK_OFFICER, agencies["justice"])
    device = enrolled(officer)
    client.force_login(officer)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    first = client.post(TOTP_URL, {"code": wrong})
    assert "not correct" in str(first.context["form"].errors)
    # Right away, even the right code is refused: the back-off (1 s, 2 s, 4 s, ...) is stored on the device row.
    second = client.post(TOTP_URL, {"code": totp_code(device)})
    assert "Too many wrong codes" in str(second.context["form"].errors)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert not Event.objects.filter(event_type="account.totp_verified").exists()


def test_a_used_code_cannot_be_replayed(agencies, make_user, enrolled):
    officer = make_user("desk", Role.DESK_OFFICER, agencies["justice"])
    device = enrolled(officer)
    code = totp_code(device)
    services.verify_totp(officer, code)
    with pytest.raises(services.TOTPRefused):
        services.verify_totp(officer, code)


def test_citizen_needs_no_second_factor(client, make_user):
    client.force_login(make_user("citizen"))
    assert client.get(TOTP_URL)["Location"] == reverse("portal:home")


def test_anonymous_totp_step_redirects_to_sign_in(client):
    assert client.get(TOTP_URL)["Location"].startswith(reverse("accounts:login"))


# The Django admin: staff must have passed the TOTP step. Tested on an EgovAdminSite of its own, mounted in a test
# URL configuration, and on the real /admin/ once settings install EgovAdminConfig.
test_site = EgovAdminSite(name="testadmin")
urlpatterns = [path("testadmin/", test_site.urls), *root_urlpatterns]


@override_settings(ROOT_URLCONF=__name__)
def test_admin_refuses_staff_without_totp_and_admits_them_after(client, make_user, enrolled):
    root = make_user("root", Role.PLATFORM_ADMIN, None, is_staff=True, is_superuser=True)
    device = enrolled(root)
    anonymous = client.get("/testadmin/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/testadmin/login/")
    assert client.get(anonymous["Location"])["Location"].startswith(reverse("accounts:login"))
    client.post("/accounts/login/", {"username": "root", "password": PASSWORD})
    unverified = client.get("/testadmin/login/?next=/testadmin/")
    assert unverified.status_code == 302 and unverified["Location"].startswith(TOTP_URL)
    assert client.get("/testadmin/").status_code == 302
    client.post(TOTP_URL, {"code": totp_code(device)})
    assert client.get("/testadmin/").status_code == 200


@override_settings(ROOT_URLCONF=__name__)
def test_admin_refuses_non_staff(client, make_user):
    client.force_login(make_user("citizen"))
    assert client.get("/testadmin/login/").status_code == 403


def test_the_real_admin_site_requires_totp():
    """Needs settings.INSTALLED_APPS to list egov.accounts.admin_site.EgovAdminConfig instead of
    django.contrib.admin (see the accounts report)."""
    assert isinstance(admin.site._wrapped if hasattr(admin.site, "_wrapped") else admin.site, EgovAdminSite)
