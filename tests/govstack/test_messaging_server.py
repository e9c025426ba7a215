"""The Messaging API through the real server (``egov serve``: gunicorn) started by the test: the API key arrives in
the spec's ``apiKey`` header and in ``api_key`` as existing clients send it (gunicorn drops underscore headers unless
told otherwise), while an underscore twin of ``Information-Mediator-Client`` is still dropped
(docs/adr/0006-underscore-headers.md)."""
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from egov.exchange.services import register_client
from egov.kernel.access import SYSTEM
from egov.notifications import services as notifications
from egov.registries.models import Agency
from tests.notifications.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
MEDIATOR = "127.0.0.2"  # the trusted Information Mediator's address; requests from 127.0.0.1 are direct callers
SINGLE = "/api/govstack/messaging/send/email/single"
STATUS = "/api/govstack/messaging/status/email"
EMAIL = {"recipientInfo": {"email": "an@example.org"},
         "emailContent": {"title": "Lịch hẹn", "content": "Mời ông đến lúc 8 giờ."}}

pytestmark = pytest.mark.django_db(transaction=True)  # the server process reads what the test committed


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    """One server for the module (starting gunicorn takes seconds); each test commits its own rows."""
    port = free_port()
    with django_db_blocker.unblock():
        url = database_url()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EGOV_DATABASE_URL": url,
           "EGOV_TRUSTED_MEDIATORS": f"{MEDIATOR}/32"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen([sys.executable, "-m", "egov.cli", "serve", "--bind", f"127.0.0.1:{port}",
                                "--workers", "1"], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            if call(port, "GET", "/healthz")[0] == 200:
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(process.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    yield port
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def call(port: int, method: str, path: str, body=None, headers: dict | None = None, source: str = "127.0.0.1"):
    """One request over a real socket; ``headers`` go out exactly as named (underscores kept)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.putrequest(method, path)
        data = json.dumps(body).encode() if body is not None else b""
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), "Cookie": "django_language=en",
                            **(headers or {})}.items():
            conn.putheader(name, value)
        conn.endheaders(data)
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw and raw[:1] in b"{[" else raw)
    finally:
        conn.close()


@pytest.fixture
def systems(transactional_db):
    agency = Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP Hồ Chí Minh")
    sender, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:lich-hen", name="Lịch hẹn",
                                  agency=agency, grants={"messaging.send": []})
    _, other_key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:tra-cuu", name="Tra cứu",
                                   agency=agency, grants={"registry.ho-kinh-doanh.read": []})
    return {"sender": sender, "key": key, "without_right": other_key}


def test_the_api_key_reaches_the_api_in_apikey_and_in_api_key(server, systems):
    for header in ("apiKey", "api_key", "api-key"):
        status, answer = call(server, "POST", SINGLE, EMAIL, {header: systems["key"]})
        assert status == 200, (header, answer)
        assert answer["requestUid"]


def test_denials_over_http(server, systems):
    status, answer = call(server, "POST", SINGLE, EMAIL)
    assert status == 401 and answer["title"] == "Authentication required"
    for header in ("apiKey", "api_key"):
        status, answer = call(server, "POST", SINGLE, EMAIL, {header: "egk_wrong"})
        assert status == 401 and "API key is not valid" in answer["detail"], header  # it arrived, and was wrong
    status, answer = call(server, "POST", SINGLE, EMAIL, {"api_key": systems["without_right"]})
    assert status == 403 and "messaging.send" in answer["detail"]


def test_a_forged_mediator_header_from_an_untrusted_source_is_refused(server, systems):
    named = {"Information-Mediator-Client": "VN/GOV/000.00.12.H29/lich-hen"}
    status, answer = call(server, "POST", SINGLE, EMAIL, named)
    assert status == 401 and "trusted mediator" in answer["detail"]
    assert call(server, "POST", SINGLE, EMAIL, named, source=MEDIATOR)[0] == 200  # the real mediator: trusted


def test_an_underscore_twin_of_the_mediator_header_is_dropped_even_from_the_mediator(server, systems):
    twin = {"Information_Mediator_Client": "VN/GOV/000.00.12.H29/lich-hen"}
    status, answer = call(server, "POST", SINGLE, EMAIL, twin, source=MEDIATOR)
    assert status == 401 and answer["detail"].startswith("No credentials")  # never reached Django
    status, _ = call(server, "POST", SINGLE, EMAIL, {**twin, "Information-Mediator-Client": "VN/GOV/000.00.12.H29/"
                                                     "tra-cuu"}, source=MEDIATOR)
    assert status == 403  # the mediator's own header alone decided who called


def test_status_over_http_follows_the_real_delivery(server, systems, settings):
    from aiosmtpd.controller import Controller

    from tests.notifications.conftest import Mailbox

    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5}}}
    try:
        uid = call(server, "POST", SINGLE, EMAIL, {"api_key": systems["key"]})[1]["requestUid"]
        headers = {"apiKey": systems["key"], "requestUid": uid}
        assert call(server, "GET", f"{STATUS}?status=scheduled&status=delivered", None, headers) == (
            200, {"scheduled": 1, "delivered": 0})
        assert notifications.deliver_due().sent == 1
        assert mailbox.to("an@example.org")
        assert call(server, "GET", f"{STATUS}?status=scheduled&status=delivered", None, headers) == (
            200, {"scheduled": 0, "delivered": 1})
    finally:
        controller.stop()


def answer_becomes(port: int, status: int, headers: dict, seconds: float = 10.0) -> int:
    """The status of the first call that answers ``status`` (or of the last one when none does within ``seconds``).
    On PostgreSQL the server keeps client systems until the database notifies a change (egov.kernel.row_cache), which
    reaches it within a moment of the commit, not at the same instant."""
    deadline = time.monotonic() + seconds
    while True:
        got = call(port, "POST", SINGLE, EMAIL, headers)[0]
        if got == status or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_a_right_withdrawn_or_a_system_disabled_while_the_server_runs_is_refused(server, systems):
    from egov.exchange.models import ClientSystem
    from egov.exchange.services import set_grants

    headers = {"apiKey": systems["key"]}
    assert call(server, "POST", SINGLE, EMAIL, headers)[0] == 200  # known to the server (kept, on PostgreSQL)
    set_grants(systems["sender"], {}, caller=SYSTEM)
    assert answer_becomes(server, 403, headers) == 403
    set_grants(systems["sender"], {"messaging.send": []}, caller=SYSTEM)
    assert answer_becomes(server, 200, headers) == 200
    ClientSystem.objects.filter(pk=systems["sender"].pk).update(is_active=False)
    assert answer_becomes(server, 401, headers) == 401
