"""Single sign-on pages in a real browser, with axe: a citizen sent by an agency system signs in, sees the consent
screen (the system, its agency, each scope in plain words) and allows it; the logout confirmation page."""
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

PASSWORD = "Mat-khau-2026-an-toan"


@pytest.fixture
def sign_in_app(transactional_db, live_server):
    from egov.accounts.models import Role, User
    from egov.exchange.services import register_client, register_oidc_client
    from egov.kernel.access import SYSTEM
    from egov.registries.models import Agency

    agency = Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP Hồ Chí Minh")
    user = User(username="cong-dan", role=Role.CITIZEN, first_name="Hà", last_name="Đỗ Thị")
    user.set_password(PASSWORD)
    user.save()
    system, _key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch điện tử",
                                   agency=agency)
    # The redirect address is on the test server itself: the browser may not leave it.
    application, _secret = register_oidc_client(caller=SYSTEM, client=system, kind="sign-in",
                                                redirect_uris=[f"{live_server.url}/healthz"])
    return application


def test_a_citizen_allows_an_agency_system_on_the_consent_screen(page, visit, check_page, sign_in_app, live_server):
    query = urlencode({"response_type": "code", "client_id": sign_in_app.client_id, "scope": "openid profile personal_id",
                       "redirect_uri": f"{live_server.url}/healthz", "state": "s-1", "nonce": "n-1",
                       "code_challenge": "E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"})
    visit(page, f"/o/authorize/?{query}")  # not signed in: the sign-in page, which comes back here
    page.fill("input[name=username]", "cong-dan")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/o/authorize/" in page.url
    check_page(page)
    assert page.locator("text=Hộ tịch điện tử").count() >= 1 and page.locator("text=Sở Tư pháp TP Hồ Chí Minh").count()
    assert page.locator("form li").count() == 3  # one line per scope
    with page.expect_navigation():
        page.click("button[name=allow]")
    answer = parse_qs(urlsplit(page.url).query)
    assert page.url.startswith(f"{live_server.url}/healthz") and answer["state"] == ["s-1"] and answer["code"]


def test_the_logout_confirmation_page(page, visit, sign_in_app):
    visit(page, "/accounts/login/")
    page.fill("input[name=username]", "cong-dan")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    visit(page, "/o/logout/")  # no ID token from an agency system: egov asks
    assert page.locator("button[name=allow]").count() == 1
    with page.expect_navigation():
        page.click("button[name=allow]")
    assert page.locator("a[href='/accounts/login/']").count() >= 1  # signed out
