"""A legal representative at level 2 opens her enterprise's business account, authorises a staff member (level 2)
and revokes them, in Chromium with axe on every page; a level-1 citizen is told how to reach level 2."""
from datetime import date

import pytest

from tests.e2e.test_accounts_journeys import PASSWORD, sign_in

CODE = "0399000127"


@pytest.fixture
def world(transactional_db):
    from egov.accounts.models import Role, User
    from egov.kernel.access import SYSTEM
    from egov.registries import services as registry
    from egov.registries.models import AdministrativeUnit, PersonalData

    hcm = AdministrativeUnit.objects.create(generation="2025", level="province", code="79",
                                            name="Thành phố Hồ Chí Minh")
    AdministrativeUnit.objects.create(generation="2025", level="commune", code="26743", name="Phường Bến Thành",
                                      parent=hcm)
    ha = registry.register_person(PersonalData(personal_id_number="079303001234", full_name="Đỗ Thị Hà",
                                               date_of_birth=date(2003, 3, 15), sex="female"), caller=SYSTEM)
    hung = registry.register_person(PersonalData(personal_id_number="036072004321", full_name="Đỗ Văn Hùng",
                                                 date_of_birth=date(1972, 8, 20), sex="male"), caller=SYSTEM)
    registry.register_enterprise(caller=SYSTEM, code=CODE, name="Công ty TNHH Thiết kế Hà Đỗ",
                                 head_office_unit="26743", head_office_address="45 Lê Thánh Tôn",
                                 legal_representative=ha)

    def account(username, person=None, level=1):
        user = User(username=username, role=Role.CITIZEN, person=person, assurance_level=level,
                    email=f"{username}@example.org")
        user.set_password(PASSWORD)
        user.save()
        return user

    return {"ha": account("do.thi.ha", ha, 2), "hung": account("do.van.hung", hung, 2),
            "basic": account("chua.xac.thuc")}


def submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.click(f"{form_selector} button[type=submit]")


def test_the_representative_opens_the_business_account_and_manages_staff(page, visit, check_page, world):
    sign_in(page, visit, "do.thi.ha")
    visit(page, "/business/")
    page.fill("input[name=enterprise_code]:not([type=hidden])", "0399000128")  # a wrong check digit: the rule is named
    submit(page, "main form[novalidate]")
    check_page(page)
    assert page.locator("input[name=enterprise_code]:not([type=hidden])").input_value() == "0399000128"
    page.fill("input[name=enterprise_code]:not([type=hidden])", CODE)
    submit(page, "main form[novalidate]")
    visit(page, f"/business/{CODE}/")
    page.fill("input[name=staff]", "do.van.hung")
    submit(page, "main form[novalidate]")
    check_page(page)
    assert "do.van.hung" in page.content() or "Đỗ Văn Hùng" in page.content()
    with page.expect_navigation():
        page.click("main form.inline-form button")
    check_page(page)


def test_a_level_1_citizen_is_told_how_to_reach_level_2(page, visit, check_page, world):
    sign_in(page, visit, "chua.xac.thuc")
    visit(page, "/business/")
    page.fill("input[name=enterprise_code]:not([type=hidden])", CODE)
    submit(page, "main form[novalidate]")
    check_page(page)
    assert "mức 2" in page.content()
