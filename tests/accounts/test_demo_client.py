"""The demo agency system (`egov demo-client`): a person signs into it through egov and it shows the claims it got.
egov runs as a real server process; the demo relying party runs in this process on its own loopback port."""
import threading
from datetime import date
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.exceptions import ImproperlyConfigured
from oauthlib.common import Request

from egov.accounts import demo_client
from egov.accounts.models import Role
from egov.accounts.oidc import EgovOAuth2Validator
from egov.kernel.access import SYSTEM
from egov.registries import services as registries
from egov.registries.models import Agency, PersonalData
from tests.accounts.conftest import PASSWORD
from tests.accounts.oidc_flow import Browser, csrf_of, hidden_fields
from tests.http_client import free_port


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def demo(server_processes, make_user):
    (egov,) = server_processes(1)
    Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp Thành phố Hồ Chí Minh")
    person = registries.register_person(PersonalData(personal_id_number="079303001234", full_name="Đỗ Thị Hà",
                                                     date_of_birth=date(2003, 3, 3), sex="female"), caller=SYSTEM)
    make_user("demo.citizen", Role.CITIZEN, first_name="Hà", last_name="Đỗ Thị", person=person)
    port = free_port()
    application, created = demo_client.ensure_demo_sign_in_application(bind=f"127.0.0.1:{port}")
    assert created and demo_client.ensure_demo_sign_in_application(bind=f"127.0.0.1:{port}")[1] is False  # idempotent

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    app = demo_client.DemoRelyingParty(provider=egov, client_id=demo_client.DEMO_CLIENT_ID,
                                       client_secret=demo_client.DEMO_CLIENT_SECRET, base_url=f"http://127.0.0.1:{port}")
    server = make_server("127.0.0.1", port, app, server_class=Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"egov": egov, "demo": f"http://127.0.0.1:{port}"}
    server.shutdown()
    server.server_close()


def test_log_into_the_demo_agency_app_through_sso_and_out_again(demo):
    browser = Browser(demo["egov"])
    browser.http.cookies.set("django_language", "en")
    home = browser.http.get(demo["demo"] + "/", timeout=30)
    assert "Sign in with egov" in home.text
    to_egov = browser.get(demo["demo"] + "/login").headers["Location"]
    assert to_egov.startswith(demo["egov"] + "/o/authorize/")
    login = browser.get(to_egov).headers["Location"]
    consent_url = browser.sign_in(login, "demo.citizen", PASSWORD)
    page = browser.get(consent_url).text
    assert "Cổng dịch vụ Sở Tư pháp (demo)" in page
    back = browser.http.post(demo["egov"] + consent_url, allow_redirects=False, timeout=30,
                             data={"csrfmiddlewaretoken": csrf_of(page), **hidden_fields(page), "allow": "on"},
                             headers={"Referer": demo["egov"] + consent_url})
    assert back.headers["Location"].startswith(demo["demo"] + "/callback?code=")
    signed_in = browser.http.get(back.headers["Location"], timeout=30)  # the demo app exchanges the code
    assert signed_in.status_code == 200, signed_in.text
    assert "You are signed in" in signed_in.text
    assert "079303001234" in signed_in.text and "Đỗ Thị Hà" in signed_in.text
    out = browser.http.get(demo["demo"] + "/logout", timeout=30)  # via egov's end-session endpoint, back home
    assert out.status_code == 200 and "Sign in with egov" in out.text
    assert "/accounts/login/" in browser.get(to_egov).headers["Location"]


def test_denying_shows_the_reason_in_the_demo_app(demo):
    browser = Browser(demo["egov"])
    to_egov = browser.get(demo["demo"] + "/login").headers["Location"]
    consent_url = browser.sign_in(browser.get(to_egov).headers["Location"], "demo.citizen", PASSWORD)
    back = browser.consent(consent_url, allow=False)
    page = browser.http.get(back.headers["Location"], timeout=30).text
    assert "access_denied" in page


def test_the_published_demo_client_is_refused_in_production(settings, db):
    Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp Thành phố Hồ Chí Minh")
    demo_client.ensure_demo_sign_in_application()
    request = Request("https://egov.example/o/token/")
    request.client = None
    assert EgovOAuth2Validator()._load_application(demo_client.DEMO_CLIENT_ID, request) is not None
    settings.ENV = "production"
    with pytest.raises(ImproperlyConfigured, match="published"):
        demo_client.ensure_demo_sign_in_application()
    request.client = None
    assert EgovOAuth2Validator()._load_application(demo_client.DEMO_CLIENT_ID, request) is None
