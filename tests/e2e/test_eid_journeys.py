"""Sign-in with the national eID in Chromium: the button on the sign-in page, the (fake) provider's page on another
loopback port, and back to egov signed in at level 2; a mismatched identity comes back with its message."""
from datetime import date

import pytest

from egov.accounts.fake_eid import Identity, start_in_thread

HUNG = Identity("036072004321", "Đỗ Văn Hùng", "1972-08-20")
HUNG_MISSPELT = Identity("036072004321", "Đỗ Văn Hưng", "1972-08-20")


@pytest.fixture
def idp():
    provider, server = start_in_thread([HUNG, HUNG_MISSPELT], clients={"egov-e2e": "e2e-secret-of-the-client"})
    yield provider
    server.shutdown()
    server.server_close()


@pytest.fixture
def allowed_origins(idp):
    return [idp.issuer]


@pytest.fixture
def configured(settings, idp, transactional_db):
    from egov.kernel.access import SYSTEM
    from egov.registries import services
    from egov.registries.models import PersonalData

    settings.EID_ISSUER, settings.EID_CLIENT_ID, settings.EID_CLIENT_SECRET = (
        idp.issuer, "egov-e2e", "e2e-secret-of-the-client")
    services.register_person(PersonalData(personal_id_number=HUNG.personal_id_number, full_name=HUNG.full_name,
                                          date_of_birth=date(1972, 8, 20), sex="male"), caller=SYSTEM)


def test_a_citizen_signs_in_with_the_national_eid_and_lands_at_level_2(page, visit, check_page, configured):
    visit(page, "/accounts/login/")
    with page.expect_navigation():
        page.click("form.eid-sign-in button")
    with page.expect_navigation(url="**/accounts/login/"):
        page.click("a:has-text('Đỗ Văn Hưng')")  # a misspelt name: refused, back on the sign-in page
    check_page(page)
    assert "không khớp" in page.content()
    with page.expect_navigation():
        page.click("form.eid-sign-in button")
    with page.expect_navigation(url=lambda url: "/accounts/login/" not in url and "/authorize" not in url):
        page.click("a:has-text('Đỗ Văn Hùng')")
    visit(page, "/accounts/me/")
    assert "Mức 2" in page.content()
    visit(page, "/my/data-access/")
