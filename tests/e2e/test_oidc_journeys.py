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
    application, secret = register_oidc_client(caller=SYSTEM, client=system, kind="sign-in",
                                               redirect_uris=[f"{live_server.url}/healthz"])
    application.raw_secret = secret  # what the agency system keeps, to redeem codes
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


def test_the_citizen_sees_the_agency_system_on_the_sessions_page_and_signs_out_of_it(page, visit, check_page,
                                                                                      sign_in_app, live_server):
    import base64
    import hashlib
    import secrets

    import requests

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": sign_in_app.client_id, "scope": "openid profile",
                       "redirect_uri": f"{live_server.url}/healthz", "state": "s-2", "nonce": "n-2",
                       "code_challenge": challenge, "code_challenge_method": "S256"})
    visit(page, f"/o/authorize/?{query}")
    page.fill("input[name=username]", "cong-dan")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    with page.expect_navigation():
        page.click("button[name=allow]")
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    # The agency system redeems the code on its server, as the demo client does.
    token = requests.post(f"{live_server.url}/o/token/", timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": f"{live_server.url}/healthz",
        "client_id": sign_in_app.client_id, "client_secret": sign_in_app.raw_secret, "code_verifier": verifier}).json()
    userinfo = f"{live_server.url}/o/userinfo/"
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(userinfo, headers=bearer, timeout=30).status_code == 200
    visit(page, "/accounts/sessions/")
    assert page.locator("text=Hộ tịch điện tử").count() >= 1
    with page.expect_navigation():
        page.click("button:has-text('Hộ tịch điện tử')")
    check_page(page)
    assert page.locator("button:has-text('Hộ tịch điện tử')").count() == 0
    assert requests.get(userinfo, headers=bearer, timeout=30).status_code == 401
