"""Journeys through the registry pages and the citizen's access log, in Chromium with axe on every page.

(a) A desk officer signs in with TOTP and looks a citizen up for a dossier; the citizen then signs in and finds the
officer's agency and purpose on "who accessed my data". (b) An agency administrator defines a registry with a JSON
schema, after one mistake in the JSON, and sees its page.
"""
from datetime import date

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.test_accounts_journeys import PASSWORD, current_code, enter_code, sign_in

AGENCY_NAME = "Sở Tư pháp Thành phố Hồ Chí Minh"
DOSSIER = "000.00.12.H29-260115-0001"


@pytest.fixture
def people(transactional_db):
    from egov.accounts.models import Role, User
    from egov.kernel.access import SYSTEM
    from egov.registries import services
    from egov.registries.models import Agency, PersonalData

    province = Agency.objects.create(code="000.00.00.H29", name="UBND Thành phố Hồ Chí Minh")
    agency = Agency.objects.create(code="000.00.12.H29", name=AGENCY_NAME, parent=province)
    ha = services.register_person(PersonalData(personal_id_number="079303001234", full_name="Đỗ Thị Hà",
                                               date_of_birth=date(2003, 5, 17), sex="female"), caller=SYSTEM)

    def make(username: str, role: str, person=None) -> User:
        user = User(username=username, role=role, agency=agency if role != Role.CITIZEN else None, person=person,
                    email=f"{username}@example.org", assurance_level=2 if person else 1)
        user.set_password(PASSWORD)
        user.save()
        if user.needs_second_factor:
            TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        return user

    return {"agency": agency, "person": ha, "make": make}


def sign_in_with_code(page, visit, check_page, user) -> None:
    sign_in(page, visit, user.username)
    assert "/accounts/login/totp/" in page.url
    check_page(page)
    enter_code(page, current_code(TOTPDevice.objects.get(user=user)))
    assert "/accounts/login" not in page.url


def submit(page, selector: str = "main form button[type=submit]") -> None:
    with page.expect_navigation():
        page.click(selector)


def test_an_officers_look_up_shows_on_the_citizens_access_page(page, visit, check_page, people):
    from egov.accounts.models import Role

    officer = people["make"]("can-bo-mot-cua", Role.DESK_OFFICER)
    citizen = people["make"]("do-thi-ha", Role.CITIZEN, person=people["person"])

    sign_in_with_code(page, visit, check_page, officer)
    visit(page, "/registries/persons/lookup/")
    assert page.locator("nav.site-nav a[aria-current=page]").get_attribute("href") == "/registries/persons/lookup/"

    # A mistyped number: the rule is said beside the field, and what was typed stays.
    page.fill("#id_personal_id_number", "07930300123")
    page.select_option("#id_purpose_kind", "dossier")
    page.fill("#id_purpose_details", DOSSIER)
    submit(page)
    check_page(page)
    assert page.locator("#id_personal_id_number_error").is_visible()
    assert page.input_value("#id_personal_id_number") == "07930300123"
    assert page.input_value("#id_purpose_details") == DOSSIER
    assert page.locator("#id_personal_id_number").get_attribute("aria-invalid") == "true"

    page.fill("#id_personal_id_number", "079303001234")
    submit(page)
    check_page(page)
    result = page.locator("section.result")
    assert "Đỗ Thị Hà" in result.inner_text() and "17/05/2003" in result.inner_text()

    with page.expect_navigation():
        page.click("header form.inline-form button")
    sign_in(page, visit, citizen.username)
    page.click("nav.site-nav a[href='/my/data-access/']")
    page.wait_for_url("**/my/data-access/")
    visit(page, "/my/data-access/")
    log = page.locator("table.log tbody").inner_text()
    assert AGENCY_NAME in log and DOSSIER in log


def test_a_level_1_citizen_is_told_how_to_reach_level_2(page, visit, people):
    from egov.accounts.models import Role

    citizen = people["make"]("chua-xac-thuc", Role.CITIZEN)
    sign_in(page, visit, citizen.username)
    visit(page, "/my/data-access/", status=403)
    assert page.locator("table").count() == 0 and page.locator("main a[href='/accounts/verify/']").count() == 1


def test_an_agency_admin_defines_a_registry_and_sees_its_page(page, visit, check_page, people):
    from egov.accounts.models import Role
    from egov.exchange import services as exchange
    from egov.kernel.access import SYSTEM

    exchange.register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch điện tử",
                             agency=people["agency"])
    admin = people["make"]("quan-tri-tu-phap", Role.AGENCY_ADMIN)
    sign_in_with_code(page, visit, check_page, admin)
    visit(page, "/registries/")
    with page.expect_navigation():
        page.click("a.button-link")
    check_page(page)
    assert page.url.endswith("/registries/new/")

    page.fill("#id_code", "ho-kinh-doanh")
    page.fill("#id_name", "Sổ đăng ký hộ kinh doanh")
    broken = '{"type": "object", "properties": {"license_number": {"type": "string"},}}'
    page.fill("#id_schema", broken)
    page.fill("#id_searchable_fields", "license_number")
    page.check("#id_protected")
    page.check("#id_readers_0")
    submit(page)
    check_page(page)
    assert page.locator("#id_schema_error").is_visible()
    assert page.input_value("#id_schema") == broken
    assert page.is_checked("#id_readers_0") and page.is_checked("#id_protected")
    page.locator("details.example summary").first.click()
    check_page(page)

    page.fill("#id_schema", broken.replace(",}}", "}}"))
    submit(page)
    check_page(page)
    assert page.url.endswith("/registries/ho-kinh-doanh/1.0/")
    assert page.locator("h1").inner_text() == "Sổ đăng ký hộ kinh doanh"
    assert page.is_checked("#id_readers_0") and not page.is_checked("#id_writers_0")

    page.check("#id_writers_0")
    submit(page)
    check_page(page)
    assert page.is_checked("#id_writers_0")
    visit(page, "/registries/ho-kinh-doanh/1.0/")
    visit(page, "/registries/")
    assert page.locator("main table a", has_text="Sổ đăng ký hộ kinh doanh").count() == 1
