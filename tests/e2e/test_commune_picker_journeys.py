# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""The commune picker in Chromium: the province first, then its communes, fetched when the province is chosen; and
the same without JavaScript, through the button that shows them. axe on the pages."""
import pytest

from tests.e2e.test_accounts_journeys import sign_in
from tests.e2e.test_backoffice_journeys import office, submit  # noqa: F401  (fixture)


@pytest.fixture
def commune_form(office):
    from egov.accounts.models import AssuranceLevel
    from egov.registries.models import AdministrativeUnit

    city = AdministrativeUnit.objects.create(generation="2025", level="province", code="79",
                                             name="Thành phố Hồ Chí Minh")
    nghe_an = AdministrativeUnit.objects.create(generation="2025", level="province", code="40", name="Tỉnh Nghệ An")
    for code, name, parent in (("26734", "Phường Sài Gòn", city), ("26743", "Phường Bến Thành", city),
                               ("16681", "Phường Thành Vinh", nghe_an)):
        AdministrativeUnit.objects.create(generation="2025", level="commune", code=code, name=name, parent=parent)
    version = office["version"]
    version.form_schema = {"type": "object", "required": ["purpose", "commune"],
                           "properties": {"purpose": {"type": "string", "minLength": 3},
                                          "commune": {"type": "string", "pattern": "^\\d{5}$"}}}
    version.ui_schema = {"purpose": {"label": "Mục đích"},
                         "commune": {"label": "Xã, phường nơi cư trú", "widget": "commune"}}
    version.save()
    citizen = office["make"]("do-thi-ha", office["Role"].CITIZEN, "Hà", "Đỗ Thị")
    citizen.assurance_level = AssuranceLevel.VERIFIED
    citizen.save()
    return citizen


def open_form(page, visit, check_page, citizen):
    sign_in(page, visit, citizen.username)
    visit(page, "/apply/2.000488/")
    submit(page, "main form button[type=submit]")
    check_page(page)
    page.fill("input[name='form_purpose']", "Du học")


def test_choosing_the_province_lists_its_communes(page, visit, check_page, commune_form):
    open_form(page, visit, check_page, commune_form)
    assert not page.locator("button[name='show_communes']").is_visible()  # not needed with JavaScript
    assert page.locator("select[name='form_commune'] option").count() == 1
    page.select_option("select[name='form_commune_province']", "79")
    page.wait_for_function("document.querySelector(\"select[name='form_commune']\").options.length === 3")
    assert page.locator("select[name='form_commune'] option").all_inner_texts() == [
        "Chọn", "Phường Bến Thành", "Phường Sài Gòn"]
    page.select_option("select[name='form_commune_province']", "")  # back to no province: nothing to choose yet
    assert page.locator("select[name='form_commune'] option").all_inner_texts() == ["Bạn hãy chọn tỉnh, thành phố trước"]
    page.select_option("select[name='form_commune_province']", "79")
    page.wait_for_function("document.querySelector(\"select[name='form_commune']\").options.length === 3")
    page.select_option("select[name='form_commune']", "26743")
    check_page(page)
    submit(page, "button[name='continue']")
    assert "/files-required/" in page.url


def test_without_javascript_the_button_shows_the_communes(open_page, commune_form):
    from tests.e2e.test_accounts_journeys import PASSWORD

    page = open_page(java_script_enabled=False)  # axe needs scripts: the same pages are checked with them above
    page.goto("/accounts/login/")
    page.fill("input[name=username]", commune_form.username)
    page.fill("input[name=password]", PASSWORD)
    submit(page, "main form button[type=submit]")
    page.goto("/apply/2.000488/")
    submit(page, "main form button[type=submit]")
    page.fill("input[name='form_purpose']", "Du học")
    page.select_option("select[name='form_commune_province']", "40")
    submit(page, "button[name='show_communes']")
    assert page.input_value("input[name='form_purpose']") == "Du học"
    assert page.locator("select[name='form_commune'] option").all_inner_texts()[1:] == ["Phường Thành Vinh"]
    page.select_option("select[name='form_commune']", "16681")
    submit(page, "button[name='continue']")
    assert "/files-required/" in page.url
