"""Notification fixtures: a real SMTP server (aiosmtpd) and a fake SMS provider (an HTTP server with the provider's
interface) on loopback, both started by the test; the dossier fixtures of tests/dossiers."""
import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.dossiers.conftest import (  # noqa: F401  (fixtures re-exported for the notification tests)
    agency, calendar_2026, citizen, english, officers, other_citizen, version,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """What the SMTP server received: (recipients, parsed message) pairs, and each message's bytes as they came."""

    def __init__(self):
        self.received = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        self.raw.append(envelope.content)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [message for rcpt, message in self.received if address in rcpt]


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5}}}
    yield mailbox
    controller.stop()


class SmsProvider:
    """A fake SMS gateway: accepts ``POST {"to", "text"}`` with the bearer token and answers ``{"id": …}``; while
    ``down`` it answers 503 like a provider in an outage."""

    token = "test-sms-token"

    def __init__(self):
        self.received: list[dict] = []
        self.down = False
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if provider.down:
                    self._answer(503, {"error": "service unavailable"})
                elif self.headers.get("Authorization") != f"Bearer {provider.token}":
                    self._answer(401, {"error": "unauthorised"})
                else:
                    provider.received.append(json.loads(body))
                    self._answer(200, {"id": f"sms-{len(provider.received)}"})

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def to(self, number: str) -> list[dict]:
        return [sms for sms in self.received if sms["to"] == number]


@pytest.fixture
def sms_provider(settings):
    provider = SmsProvider()
    provider.thread.start()
    settings.SMS_BACKEND = "egov.notifications.backends.HttpSmsBackend"
    settings.SMS_URL = provider.url
    settings.SMS_TOKEN = provider.token
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


@pytest.fixture
def reachable_citizen(citizen):  # noqa: F811
    citizen.email, citizen.phone = "hung.citizen@example.org", "0912345678"
    citizen.save()
    return citizen
