"""Browser journeys in Debian's Chromium (never a downloaded browser), with axe-core on every page visited.

Fixtures:
- ``page``: a fresh browser context and page (Vietnamese browser locale, like most visitors).
- ``visit(page, path, status=200, wait_for=None)``: navigate, wait for a selector if given, check the HTTP status,
  run axe (WCAG 2.2 A/AA tags, no rule disabled), check that the page does not scroll sideways at 320 px (reflow)
  and record the route, for the route coverage test in ``test_zz_route_coverage.py``.
- ``check_page(page)``: run axe and the reflow check on the page as it is now (after a form post or a click) and
  record its route.
"""
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run where an event loop runs unless
# told that this is safe, which it is here: the loop only drives the browser, never Django code. (Processes that other
# tests start drop it: see tests/cli/conftest.py.)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Routes (view names, or route strings for unnamed patterns) that a browser test has visited in this session.
VISITED_ROUTES: set[str] = set()

E2E_DIR = Path(__file__).parent


def pytest_sessionfinish(session):
    """Under pytest-xdist: this worker's visited routes, for the controller's route coverage check (written only when
    every journey was collected and none deselected)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    config = session.config
    if worker and getattr(config, "_egov_all_e2e_collected", False) and not getattr(config, "_egov_e2e_deselected",
                                                                                     False):
        shared = Path(os.environ["EGOV_DATA_DIR"]).parent  # tests/environment.py: one directory per worker in it
        (shared / f"visited-routes-{worker}.txt").write_text("\n".join(sorted(VISITED_ROUTES)))


def pytest_collection_modifyitems(config, items):
    e2e_items = [item for item in items if Path(str(item.fspath)).parent == E2E_DIR]
    for item in e2e_items:
        item.add_marker(pytest.mark.e2e)
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise pytest.UsageError(f"{CHROMIUM} is missing: CI must run the browser tests (.ci/run installs chromium)")
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")
        for item in e2e_items:
            item.add_marker(skip)
    # The route coverage check means something only when every browser journey ran in this session.
    files_run = {Path(str(item.fspath)).name for item in e2e_items}
    config._egov_all_e2e_collected = files_run >= {p.name for p in E2E_DIR.glob("test_*.py")}


def pytest_deselected(items):
    for item in items:
        if Path(str(item.fspath)).parent == E2E_DIR:
            item.config._egov_e2e_deselected = True


def route_of(url: str) -> str:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return "<unmatched>"
    return match.view_name or match.route


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def allowed_origins() -> list[str]:
    """Origins besides the live server that a journey may navigate to (a fake identity provider on loopback)."""
    return []


@pytest.fixture
def open_page(browser, live_server, allowed_origins):
    """A factory of fresh pages, each in its own browser context: ``open_page(java_script_enabled=False)``."""
    contexts = []
    # Any request beyond the live server (a CDN, a font service) fails the test: pages must work offline.
    outside = []

    def guard(route):
        if route.request.url.startswith((live_server.url, "data:", "blob:", *allowed_origins)):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def open_(**options):
        context = browser.new_context(locale="vi-VN", base_url=live_server.url, **options)
        context.route("**/*", guard)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not outside, f"the page tried to load from outside the server: {outside}"


@pytest.fixture
def page(open_page):
    return open_page()


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']} [{violation['helpUrl']}]")
        for node in violation["nodes"][:10]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}")
            lines.append(f"       {node.get('html', '')[:200]}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()  # axe.min.js bundled in the package: no network


# WCAG 1.4.10 Reflow: at 320 CSS pixels wide (a phone, or 1280 at 400 % zoom) a page never scrolls sideways; data
# tables, charts and code scroll inside their own region instead.
REFLOW_WIDTH = 320
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const element of document.body.querySelectorAll("*")) {
    if (element.closest(".table-scroll, .chart-scroll, pre")) continue;
    const box = element.getBoundingClientRect();
    if (box.width && box.right > width + 1) {
      found.push(`${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}` +
                 `${element.className && typeof element.className === "string" ? "." + element.className.trim()
                    .split(/\\s+/).join(".") : ""} (right edge at ${Math.round(box.right)} px)`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, found: found.slice(-5)};
}"""


def assert_reflows(page):
    size = page.viewport_size
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": 640})
    try:
        measured = page.evaluate(OVERFLOWING)
    finally:
        page.set_viewport_size(size)
    assert measured["scrollWidth"] <= measured["width"] + 1, (
        f"{page.url} scrolls sideways at {REFLOW_WIDTH} px: {measured['scrollWidth']} px wide; widest elements: "
        f"{measured['found']}")


@pytest.fixture
def check_page(axe):
    def check(page):
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                         "resultTypes": ["violations"]})
        violations = results.response["violations"]
        assert not violations, f"axe found accessibility violations on {page.url}:\n{format_violations(violations)}"
        assert_reflows(page)
        VISITED_ROUTES.add(route_of(page.url))

    return check


@pytest.fixture
def visit(check_page):
    def go(page, path: str, status: int = 200, wait_for: str | None = None):
        response = page.goto(path)
        assert response is not None and response.status == status, (
            f"GET {path} answered {response and response.status}, expected {status}")
        page.wait_for_load_state("load")
        if wait_for:  # content drawn by script after load
            page.wait_for_selector(wait_for)
        check_page(page)
        return response

    return go
