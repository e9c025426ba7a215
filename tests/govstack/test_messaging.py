"""GovStack Messaging BB API over the notifications outbox: send single and batch, status, the client's callback and
the provider's delivery report. Emails really leave through a loopback SMTP server; callbacks reach a loopback HTTP
server. (Over the real gunicorn server: test_messaging_server.py.)"""
import base64
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from egov.exchange.services import register_client
from egov.kernel.access import SYSTEM
from egov.kernel.ledger_models import Event
from egov.notifications import services as notifications
from egov.notifications.models import Message, MessageRequest
from tests.govstack.conftest import ClientSystem
from tests.notifications.conftest import Mailbox, free_port

BASE = "/api/govstack/messaging"
SINGLE, BATCH, STATUS, CALLBACK = (f"{BASE}/send/email/single", f"{BASE}/send/email/batch", f"{BASE}/status/email",
                                   f"{BASE}/callback/email")
ALL = ["scheduled", "processing", "deferred", "bounced", "notSent", "delivered"]


class PickyMailbox(Mailbox):
    """The SMTP server: refuses ``*@gone.example`` for good (550) and ``*@busy.example`` for now (451)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@gone.example"):
            return "550 5.1.1 No such user"
        if address.endswith("@busy.example"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    mailbox = PickyMailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5}}}
    settings.DEFAULT_FROM_EMAIL = "egov <no-reply@egov.gov.vn>"
    yield mailbox
    controller.stop()


class CallbackReceiver:
    """The client system's callback endpoint on loopback; answers 503 while ``down``."""

    def __init__(self):
        self.received: list = []
        self.down = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                status = 503 if receiver.down else 200
                if not receiver.down:
                    receiver.received.append((self.headers, body))  # case-insensitive
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback/emails"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(settings):
    settings.MESSAGING_CALLBACK_PRIVATE = True  # loopback is private: allowed for the test only
    receiver = CallbackReceiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def messenger(agency):
    """The hospital's appointment system: may send emails."""
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:lich-hen", name="Lịch hẹn",
                                  agency=agency, grants={"messaging.send": []})
    return ClientSystem(client, key)


@pytest.fixture
def other_messenger(other_agency):
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.15.H29:thong-bao", name="Thông báo",
                                  agency=other_agency, grants={"messaging.send": []})
    return ClientSystem(client, key)


@pytest.fixture
def mail_provider(agency):
    """The email provider's system: reports delivery."""
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:mail-gw", name="Mail gateway",
                                  agency=agency, grants={"messaging.report": []})
    return ClientSystem(client, key)


def key_header(system) -> dict:
    return {"apiKey": system.key}


def email(to="an@example.org", **extra) -> dict:
    return {"senderInfo": {"organisationName": "Bệnh viện Chợ Rẫy", "name": "Phòng khám", "replyTo": "lh@cr.vn"},
            "recipientInfo": {"email": to, "name": "Nguyễn Văn An"},
            "emailContent": {"encoding": "UTF-8", "title": "Lịch hẹn khám", "content": "Mời ông đến lúc 8 giờ."},
            **extra}


def batch(recipients: list, **extra) -> dict:
    encoded = base64.b64encode(json.dumps([{"recipientInfo": r} for r in recipients]).encode()).decode()
    body = email(**extra)
    body["recipientInfo"] = {"batchEmailAsBase64": encoded}
    return body


def status_of(api, system, uid, statuses=ALL) -> dict:
    response = api.get(STATUS, {"status": statuses}, headers={**key_header(system), "requestUid": uid})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_single_email_is_queued_then_really_sent_and_reported_delivered(api, messenger, smtp):
    response = api.post(SINGLE, email(), headers=key_header(messenger))
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["response"].startswith("Request successfully accepted") and answer["requestUid"]
    assert status_of(api, messenger, answer["requestUid"]) == {**dict.fromkeys(ALL, 0), "scheduled": 1}

    assert notifications.deliver_due().sent == 1
    (recipients, sent), = smtp.received
    assert recipients == ["an@example.org"] and sent["Subject"] == "Lịch hẹn khám"
    assert "no-reply@egov.gov.vn" in sent["From"] and "Bệnh viện Chợ Rẫy" in sent["From"]  # egov's address only
    assert sent["Reply-To"] == "lh@cr.vn"
    message = Message.objects.get()
    assert sent["Message-ID"] == f"<{message.uid}@egov.gov.vn>" == message.provider_reference
    assert status_of(api, messenger, answer["requestUid"], ["delivered"]) == {"delivered": 1}


def test_the_api_key_is_accepted_in_api_key_and_authorization_too(api, messenger, smtp):
    for headers in ({"api_key": messenger.key}, {"Authorization": f"Bearer {messenger.key}"}):
        assert api.post(SINGLE, email(), headers=headers).status_code == 200
    response = api.post(SINGLE, email(), headers={"apiKey": messenger.key, "api_key": "egk_another"})
    assert response.status_code == 401 and "Two different API keys" in response.json()["detail"]


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"apiKey": "egk_not-a-key"}, 401)],
                         ids=["no-key", "wrong-key"])
def test_callers_without_a_valid_key_are_refused(api, messenger, headers, status):
    response = api.post(SINGLE, email(), headers=headers)
    assert response.status_code == status and response["Content-Type"] == "application/problem+json"
    assert not MessageRequest.objects.exists()


def test_a_client_system_without_the_right_is_refused(api, stranger, mail_provider):
    for system in (stranger, mail_provider):
        response = api.post(SINGLE, email(), headers=key_header(system))
        assert response.status_code == 403 and "messaging.send" in response.json()["detail"]


def test_a_signed_in_person_is_not_a_caller_of_the_messaging_api(api, client, citizen_an):
    client.force_login(citizen_an)
    assert api.post(SINGLE, email()).status_code == 401


def test_a_forged_mediator_header_from_an_untrusted_source_is_refused(api, messenger, trusted_mediator):
    response = api.post(SINGLE, email(), headers={"Information-Mediator-Client": messenger.identifier})
    assert response.status_code == 401 and "trusted mediator" in response.json()["detail"]
    through_mediator = api.post(SINGLE, email(), headers={"Information-Mediator-Client": messenger.identifier},
                                REMOTE_ADDR=trusted_mediator)
    assert through_mediator.status_code == 200


@pytest.mark.parametrize(("change", "field"), [
    ({"recipientInfo": {"email": "not-an-address"}}, "recipientInfo.email"),
    ({"recipientInfo": {}}, "recipientInfo.email"),
    ({"emailContent": {"title": "", "content": "x"}}, "emailContent.title"),
    ({"emailContent": {"title": "Subject\nBcc: all@example.org", "content": "x"}}, "emailContent.title"),
    ({"emailContent": {"title": "T", "content": "x", "encoding": "latin-1"}}, "emailContent.encoding"),
    ({"callback": {"URI": "ftp://example.org/x"}}, "callback.URI"),
], ids=["bad-address", "no-address", "no-title", "header-injection", "encoding", "callback-scheme"])
def test_invalid_input_is_the_specs_405_naming_the_field(api, messenger, change, field):
    response = api.post(SINGLE, {**email(), **change}, headers=key_header(messenger))
    assert response.status_code == 405, response.content
    assert response["Content-Type"] == "application/problem+json" and response.json()["field"] == field
    assert not MessageRequest.objects.exists()


def test_a_body_of_the_wrong_shape_is_405_too_never_500(api, messenger):
    for body in ("not json", {"recipientInfo": "x"}, {"emailContent": {"title": "t" * 300}}):
        response = api.post(SINGLE, body, headers=key_header(messenger))
        assert response.status_code == 405 and response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("path", [SINGLE, BATCH, CALLBACK])
@pytest.mark.parametrize("body", [b"{not json", b"\xff", b""], ids=["not-json", "not-utf8", "empty"])
def test_a_body_that_is_not_json_is_the_specs_405_as_documented(api, client, messenger, mail_provider, path, body):
    """Like any other invalid input of this API (never 422, which its document does not list); an empty body is a
    missing one."""
    from tests.api.contract import assert_documented, openapi

    system = mail_provider if path == CALLBACK else messenger
    response = api.post(path, body, headers={**key_header(system), "requestUid": "x"})
    assert response.status_code == 405, response.content
    problem = assert_documented(openapi(client), "post", path, response)
    assert [error["field"] for error in problem["errors"]] == ["body"]


def test_a_batch_sends_to_every_valid_recipient_and_names_the_refused_ones(api, messenger, smtp):
    response = api.post(BATCH, batch([{"email": "a@example.org"}, {"email": "nope"}, {"email": "b@example.org",
                                      "emailCC": "c@example.org"}]), headers=key_header(messenger))
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["notSent"] == 1
    assert answer["errors"] == [{"index": 1, "field": "batchEmailAsBase64[1].recipientInfo.email",
                                 "message": "Not a valid email address."}]
    assert notifications.deliver_due().sent == 2
    assert sorted(r for rcpts, _ in smtp.received for r in rcpts) == ["a@example.org", "b@example.org",
                                                                      "c@example.org"]
    assert status_of(api, messenger, answer["requestUid"], ["delivered", "notSent"]) == {"delivered": 2,
                                                                                         "notSent": 1}


def test_a_batch_is_capped(api, messenger, settings):
    settings.MESSAGING_BATCH_MAX = 3
    response = api.post(BATCH, batch([{"email": f"p{i}@example.org"} for i in range(4)]),
                        headers=key_header(messenger))
    assert response.status_code == 405 and "At most 3 recipients" in response.json()["detail"]
    garbled = api.post(BATCH, {**email(), "recipientInfo": {"batchEmailAsBase64": "%%%"}},
                       headers=key_header(messenger))
    assert garbled.status_code == 405 and garbled.json()["field"] == "recipientInfo.batchEmailAsBase64"


def test_status_follows_retries_and_giving_up(api, messenger, smtp):
    uid = api.post(BATCH, batch([{"email": "x@busy.example"}, {"email": "y@example.org"}, {"email": "z@gone.example"}]),
                   headers=key_header(messenger)).json()["requestUid"]
    start = timezone.now()
    notifications.deliver_due(now=start)
    assert status_of(api, messenger, uid) == {**dict.fromkeys(ALL, 0), "deferred": 2, "delivered": 1}
    moment = start
    for _ in range(6):
        moment += dt.timedelta(hours=7)
        notifications.deliver_due(now=moment)
    assert status_of(api, messenger, uid, ["notSent", "deferred"]) == {"notSent": 2, "deferred": 0}


def test_status_is_only_for_the_request_owner(api, messenger, other_messenger, smtp):
    uid = api.post(SINGLE, email(), headers=key_header(messenger)).json()["requestUid"]
    response = api.get(STATUS, {"status": ["delivered"]}, headers={**key_header(other_messenger), "requestUid": uid})
    assert response.status_code == 404
    missing = api.get(STATUS, {"status": ["delivered"]}, headers=key_header(messenger))
    assert missing.status_code == 405 and missing.json()["errors"][0]["field"] == "header.requestUid"
    unknown_status = api.get(STATUS, {"status": ["lost"]}, headers={**key_header(messenger), "requestUid": uid})
    assert unknown_status.status_code == 405


def test_the_client_is_called_back_with_retries_once_its_request_is_settled(api, messenger, smtp, receiver):
    uid = api.post(SINGLE, email(callback={"URI": receiver.url}), headers=key_header(messenger)).json()["requestUid"]
    receiver.down = True
    start = timezone.now()
    notifications.deliver_due(now=start)  # the email leaves; the callback is queued and its first try fails
    notifications.deliver_due(now=start)
    callback = Message.objects.get(channel=Message.Channel.CALLBACK)
    assert callback.status == Message.Status.FAILED and "503" in callback.error and not receiver.received
    receiver.down = False
    notifications.deliver_due(now=start + dt.timedelta(minutes=2))
    (headers, body), = receiver.received
    assert headers.get("requestUid") == uid and body["meta"] == "status"
    assert json.loads(base64.b64decode(body["content"])) == {"requestUid": uid, **dict.fromkeys(ALL, 0),
                                                             "delivered": 1}
    notifications.deliver_due(now=start + dt.timedelta(hours=1))
    assert len(receiver.received) == 1  # told once


def test_callbacks_to_private_addresses_are_refused_outside_tests(api, messenger, smtp, settings):
    settings.MESSAGING_CALLBACK_PRIVATE = False
    api.post(SINGLE, email(callback={"URI": "http://127.0.0.1:9/internal"}), headers=key_header(messenger))
    notifications.deliver_due()
    notifications.deliver_due()
    callback = Message.objects.get(channel=Message.Channel.CALLBACK)
    assert callback.status == Message.Status.FAILED and "non-public address" in callback.error


def test_the_provider_reports_a_bounce_which_status_then_shows(api, messenger, mail_provider, stranger, smtp):
    uid = api.post(SINGLE, email(), headers=key_header(messenger)).json()["requestUid"]
    notifications.deliver_due()
    reference = Message.objects.get().provider_reference
    report = {"meta": "bounced", "content": base64.b64encode(json.dumps({"references": [reference]}).encode()).decode()}
    assert api.post(CALLBACK, report, headers={**key_header(stranger), "requestUid": uid}).status_code == 403
    assert api.post(CALLBACK, report, headers={**key_header(messenger), "requestUid": uid}).status_code == 403
    response = api.post(CALLBACK, report, headers={**key_header(mail_provider), "requestUid": uid})
    assert response.status_code == 200 and response.json()["updated"] == 1
    assert status_of(api, messenger, uid, ["bounced", "delivered"]) == {"bounced": 1, "delivered": 0}
    bad = api.post(CALLBACK, {"meta": "exploded", "content": ""},
                   headers={**key_header(mail_provider), "requestUid": uid})
    assert bad.status_code == 405 and bad.json()["field"] == "meta"


def test_every_send_is_a_ledger_event_without_the_recipient(api, messenger, smtp):
    api.post(BATCH, batch([{"email": "secret.person@example.org"}, {"email": "bad"}]), headers=key_header(messenger))
    event = Event.objects.get(event_type="messaging.accepted")
    assert event.payload["queued"] == 1 and event.payload["not_sent"] == 1
    assert event.partition == "000.00.12.H29"
    notifications.deliver_due()
    for row in Event.objects.all():
        assert "secret.person" not in json.dumps(row.payload)
    assert "secret.person" not in MessageRequest.objects.get().rejected.__repr__()
    assert "secret.person" not in Message.objects.get().sealed


def test_the_endpoints_are_in_the_openapi_schema_with_the_specs_shapes(api):
    schema = api.get("/api/openapi.json").json()
    operations = {path.removeprefix("/api/govstack/messaging"): item for path, item in schema["paths"].items()
                  if path.startswith("/api/govstack/messaging/")}
    assert set(operations) == {"/send/email/single", "/send/email/batch", "/callback/email", "/status/email"}
    assert operations["/send/email/single"]["post"]["operationId"] == "sendSingleEmail"
    assert operations["/status/email"]["get"]["operationId"] == "getEmailStatus"
    components = schema["components"]["schemas"]
    assert set(components["Email"]["properties"]) == {"callback", "senderInfo", "recipientInfo", "emailContent"}
    assert set(components["RequestStatus"]["properties"]) == set(ALL)
    assert {"response", "requestUid"} <= set(components["ResponseRequestAccepted"]["properties"])
    assert schema["components"]["securitySchemes"]["MessagingApiKey"] == {
        **schema["components"]["securitySchemes"]["MessagingApiKey"], "type": "apiKey", "in": "header",
        "name": "apiKey"}
    assert "405" in operations["/send/email/single"]["post"]["responses"]
