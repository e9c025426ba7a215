"""A new citizen's journey: register, reach level 2 with the code sent to the phone registered in the population
registry (read from the demo outbox), change the email with a code, read the history, and sign out another browser.
A desk officer's identity check page too."""
import re
from datetime import date

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.test_accounts_journeys import PASSWORD, current_code, enter_code, sign_in


@pytest.fixture
def hung(transactional_db):
    """Đỗ Văn Hùng in the population registry, with a registered phone (as in the demo population)."""
    from egov.kernel.access import SYSTEM
    from egov.registries import services
    from egov.registries.models import PersonalData

    return services.register_person(PersonalData(
        personal_id_number="036072004321", full_name="Đỗ Văn Hùng", date_of_birth=date(1972, 8, 20), sex="male",
        phone="0903123456"), caller=SYSTEM)


def submit(page, selector: str = "main form button[type=submit]") -> None:
    with page.expect_navigation():
        page.click(selector)


def code_from_outbox(page, visit, return_to: str) -> str:
    visit(page, "/demo/outbox/")
    code = re.search(r"\b(\d{6})\b", page.locator("table tbody tr").first.inner_text()).group(1)
    visit(page, return_to)
    return code


def test_a_new_citizen_registers_reaches_level_2_and_manages_the_account(page, visit, check_page, browser,
                                                                         live_server, hung):
    visit(page, "/accounts/register/")
    page.fill("input[name=username]", "do.van.hung")
    page.fill("input[name=email]", "hung@example.org")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD + "!")
    submit(page)
    check_page(page)
    assert "/accounts/register/" in page.url and page.locator("#id_username").input_value() == "do.van.hung"
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    submit(page)
    assert page.url.endswith("/accounts/me/")
    check_page(page)

    visit(page, "/my/data-access/", status=403)  # level 1: told how to reach level 2
    with page.expect_navigation():
        page.click("main a[href='/accounts/verify/']")
    check_page(page)
    page.fill("input[name=personal_id_number]", "036072004321")
    page.fill("input[name=full_name]", "Đỗ Văn Hưng")  # one accent wrong
    page.fill("input[name=date_of_birth]", "1972-08-20")
    submit(page)
    check_page(page)
    assert "không khớp với cơ sở dữ liệu dân cư" in page.content()
    page.fill("input[name=full_name]", "Đỗ Văn Hùng")
    submit(page)
    code_page = page.url
    assert re.search(r"/accounts/verify/[0-9a-f-]{36}/$", code_page)
    check_page(page)
    assert "09******56" in page.content()
    code = code_from_outbox(page, visit, code_page)
    page.fill("input[name=code]", code)
    submit(page)
    assert page.url.endswith("/accounts/me/") and "Mức 2" in page.content()
    visit(page, "/my/data-access/")

    visit(page, "/accounts/contact/")
    page.check("input[name=field][value=email]")
    page.fill("input[name=value]", "hung.moi@example.org")
    submit(page)
    contact_code_page = page.url
    check_page(page)
    code = code_from_outbox(page, visit, contact_code_page)
    enter_code(page, code)
    assert "hung.moi@example.org" in page.content()

    visit(page, "/accounts/history/")
    assert page.locator("table tbody tr").count() >= 3

    other = browser.new_context(locale="vi-VN", base_url=live_server.url)
    second = other.new_page()
    second.goto("/accounts/login/")
    second.fill("input[name=username]", "do.van.hung")
    second.fill("input[name=password]", PASSWORD)
    with second.expect_navigation():
        second.press("input[name=password]", "Enter")
    visit(page, "/accounts/sessions/")
    assert page.locator("main table tbody tr").count() == 2
    other_row = page.locator("main table tbody tr", has_not_text="(")  # the row without "(this browser)"
    with page.expect_navigation():
        other_row.locator("button").click()
    check_page(page)
    assert page.locator("main table tbody tr").count() == 1
    second.goto("/accounts/me/")
    assert "/accounts/login/" in second.url
    other.close()


def test_a_desk_officer_verifies_a_citizen_in_person(page, visit, check_page, hung):
    from egov.accounts.models import Role, User
    from egov.registries.models import Agency

    agency = Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP Hồ Chí Minh")
    officer = User(username="mot-cua", role=Role.DESK_OFFICER, agency=agency, email="mot-cua@example.org")
    officer.set_password(PASSWORD)
    officer.save()
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    citizen = User.objects.create(username="cong-dan", role=Role.CITIZEN)
    sign_in(page, visit, "mot-cua")
    enter_code(page, current_code(device))
    visit(page, "/accounts/desk/verify/")
    page.fill("input[name=username]", "cong-dan")
    page.fill("input[name=personal_id_number]", "036072004321")
    page.check("input[name=document_checked]")
    submit(page)
    check_page(page)
    citizen.refresh_from_db()
    assert citizen.assurance_level == 2
