"""Finding a procedure in Chromium (Vietnamese browser), with axe on every page visited.

A citizen types "dang ky khai sinh" without accents, finds birth registration (Đăng ký khai sinh) and opens its
page: documents, fees, time, where to go and the button to apply online. The same search works with JavaScript
disabled; the life-event links and a bad filter value (a clear message, status 400) pass axe too.
"""
import pytest

BIRTH = "Đăng ký khai sinh"


@pytest.fixture
def catalogue(transactional_db):
    from egov.procedures import services
    from egov.procedures.demo import DEMO_CATALOGUE
    from egov.registries.demo import DEMO_AGENCIES
    from egov.registries.models import Agency

    agencies = {}
    for spec in DEMO_AGENCIES:  # parents come first
        agencies[spec.code] = Agency.objects.create(code=spec.code, name=spec.name, parent=agencies.get(spec.parent))
    services.import_catalogue(DEMO_CATALOGUE)  # also makes the search forget its cached filter lists


def test_a_citizen_types_without_accents_and_reaches_birth_registration(page, visit, check_page, catalogue):
    visit(page, "/procedures/")
    page.locator("#id_q").fill("dang ky khai sinh")
    with page.expect_navigation():
        page.locator("#id_q").press("Enter")  # the keyboard alone submits the search
    check_page(page)
    results = page.locator("ul.results a")
    assert results.count() == 1 and results.first.inner_text() == BIRTH
    assert page.locator("#id_q").input_value() == "dang ky khai sinh"  # what was typed stays
    with page.expect_navigation():
        results.first.click()
    check_page(page)
    assert page.url.endswith("/procedures/1.001193/")
    assert page.locator("h1").inner_text() == BIRTH
    assert page.locator("a.apply-button").get_attribute("href") == "/apply/1.001193/"
    text = page.locator("main").inner_text()
    assert "Giấy chứng sinh" in text                 # a document to bring
    assert "Ủy ban nhân dân phường Sài Gòn" in text  # where to go


def test_the_search_works_without_javascript(browser, live_server, catalogue):
    context = browser.new_context(locale="vi-VN", base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/procedures/")
        page.locator("#id_q").fill("Dang Ky Khai Sinh")
        with page.expect_navigation():
            page.locator("form[role=search] button[type=submit]").click()
        with page.expect_navigation():
            page.get_by_role("link", name=BIRTH).click()
        assert page.locator("h1").inner_text() == BIRTH
    finally:
        context.close()


def test_life_events_and_a_bad_filter(page, visit, catalogue):
    visit(page, "/procedures/?life_event=birth")
    assert page.locator("ul.life-events a[aria-current=true]").count() == 1
    assert BIRTH in page.locator("ul.results").inner_text()
    visit(page, "/procedures/?sector=Kh%C3%B4ng+c%C3%B3", status=400)
    assert "Không có" in page.locator("[role=alert]").inner_text()
    assert page.locator("#id_sector").get_attribute("aria-invalid") == "true"
