"""How a message leaves the platform. SMS goes through a provider (the true edge): one interface, two backends.

* ``OutboxSmsBackend`` (the demo and tests): delivers nothing; the message stays readable in the demo outbox page.
  Production refuses it (``config.refuse_unsafe_production``).
* ``HttpSmsBackend``: POSTs ``{"to": …, "text": …}`` as JSON to ``EGOV_SMS_URL`` with ``Authorization: Bearer
  EGOV_SMS_TOKEN``, the shape most Vietnamese SMS brandname gateways accept behind a small adapter; the provider's
  message id comes back as ``{"id": …}``.

Email goes through Django's mail backend (``EGOV_EMAIL_BACKEND``: SMTP by default)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string


class DeliveryFailed(Exception):
    pass


class OutboxSmsBackend:
    name = "outbox"

    def send(self, *, to: str, text: str) -> str:
        return "outbox"


class HttpSmsBackend:
    name = "http"

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 10.0):
        self.url = url or settings.SMS_URL
        self.token = token if token is not None else settings.SMS_TOKEN
        self.timeout = timeout

    def send(self, *, to: str, text: str) -> str:
        if not self.url:
            raise DeliveryFailed("EGOV_SMS_URL is not set")
        request = urllib.request.Request(self.url, data=json.dumps({"to": to, "text": text}).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {self.token}"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except (OSError, ValueError, urllib.error.URLError) as error:
            raise DeliveryFailed(f"SMS provider: {error}") from None
        return str(answer.get("id", ""))[:100]


def sms_backend():
    return import_string(settings.SMS_BACKEND)()


def send_email(*, to: str, subject: str, text: str) -> str:
    try:
        EmailMessage(subject=subject, body=text, to=[to]).send()
    except OSError as error:  # SMTP refused or unreachable
        raise DeliveryFailed(f"email: {error}") from None
    return "email"
