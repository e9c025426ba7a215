"""Journeys through the web shell: Vietnamese home page, keyboard-only language switch, skip link, error page."""
import json

from django.utils import translation
from django.utils.translation import gettext

HOME_TITLE = "Public services, online and in one place"


def translated(text: str, language: str) -> str:
    with translation.override(language):
        return gettext(text)


def tab_until(page, predicate_js: str, limit: int = 30) -> None:
    """Press Tab until the focused element satisfies the JavaScript predicate (given ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({predicate_js}); }})()"):
            return
    raise AssertionError(f"no focusable element matching {predicate_js} within {limit} Tab presses")


def test_home_page_is_vietnamese_by_default(page, visit):
    visit(page, "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == translated(HOME_TITLE, "vi")
    # Landmarks a screen reader user jumps between.
    for selector in ("header", "nav", "main#main", "footer"):
        assert page.locator(selector).count() >= 1, selector
    assert page.locator("[role=status]").count() == 1


def test_skip_link_is_first_and_moves_focus_to_main(page, visit):
    visit(page, "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    assert page.evaluate("getComputedStyle(document.activeElement).top") != "-160px"  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_language_switch_by_keyboard_alone(page, visit, check_page):
    visit(page, "/")
    tab_until(page, "el.form && el.form.classList.contains('language-switch')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == HOME_TITLE
    check_page(page)

    tab_until(page, "el.form && el.form.classList.contains('language-switch')")
    assert page.evaluate("document.activeElement.getAttribute('lang')") == "vi"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == translated(HOME_TITLE, "vi")
    check_page(page)


def test_language_switch_works_without_javascript(browser, live_server):
    context = browser.new_context(locale="vi-VN", base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/")
        with page.expect_navigation():
            page.get_by_role("button", name="English").click()
        assert page.locator("html").get_attribute("lang") == "en"
    finally:
        context.close()


def test_unknown_page_shows_the_404_page(page, visit):
    visit(page, "/khong-co-trang-nay/", status=404)
    assert page.locator("h1").inner_text() == translated("Page not found", "vi")


def test_health_and_readiness_answer_json(page):
    for path in ("/healthz", "/readyz"):
        response = page.goto(path)
        assert response.status == 200
        assert json.loads(response.text())["status"] == "ok"
    from tests.e2e.conftest import VISITED_ROUTES

    VISITED_ROUTES.update({"healthz", "readyz"})


def test_api_docs_render_offline(page, visit):
    # Swagger UI, from django-ninja's static files (the page fixture fails any request beyond the server), has drawn
    # the operations of our schema before axe checks the page.
    visit(page, "/api/docs", wait_for=".swagger-ui .opblock")
    assert page.locator(".swagger-ui").get_by_text("/api/v1/health").count() >= 1
