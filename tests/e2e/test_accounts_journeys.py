"""Journeys through the accounts pages (owned by accounts; kept here so every routed page gets its axe check).

An officer signs in, enrols an authenticator (TOTP), and opens the officer list of their agency; another officer,
already enrolled, is asked for the code after the password.
"""
import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "Mat-khau-2026-an-toan"


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def officer(transactional_db):
    from egov.accounts.models import Role, User
    from egov.registries.models import Agency

    agency = Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP Hồ Chí Minh")

    def make(username: str, role: str = Role.DESK_OFFICER, enrolled: bool = False) -> User:
        user = User(username=username, role=role, agency=agency, email=f"{username}@example.org")
        user.set_password(PASSWORD)
        user.save()
        if enrolled:
            TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        return user

    return make


def sign_in(page, visit, username: str) -> None:
    visit(page, "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")


def enter_code(page, code: str) -> None:
    page.fill("input[name=code]", code)
    with page.expect_navigation():
        page.press("input[name=code]", "Enter")


def test_password_reset_pages(page, visit):
    visit(page, "/accounts/password/reset/")
    assert page.locator("form input[name=email]").count() == 1
    visit(page, "/accounts/password/reset/sent/")
    visit(page, "/accounts/password/reset/done/")


def test_agency_admin_enrols_an_authenticator_then_sees_the_officer_list(page, visit, check_page, officer):
    from egov.accounts.models import Role

    user = officer("quan-tri-co-quan", role=Role.AGENCY_ADMIN)
    sign_in(page, visit, user.username)
    assert "/accounts/totp/enrol/" in page.url
    check_page(page)
    device = TOTPDevice.objects.get(user=user)
    enter_code(page, current_code(device))
    assert "/accounts/totp/" not in page.url and "/accounts/login/" not in page.url
    visit(page, f"/accounts/agency/{user.agency.code}/officers/")
    assert user.username in page.content()


def test_enrolled_desk_officer_is_asked_for_the_code_and_denied_the_officer_list(page, visit, check_page, officer):
    user = officer("can-bo-mot-cua", enrolled=True)
    sign_in(page, visit, user.username)
    assert "/accounts/login/totp/" in page.url
    check_page(page)
    enter_code(page, current_code(TOTPDevice.objects.get(user=user)))
    visit(page, f"/accounts/agency/{user.agency.code}/officers/", status=403)
