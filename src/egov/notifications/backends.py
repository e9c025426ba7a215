"""How a message leaves the platform. SMS goes through a provider (the true edge): one interface, two backends.

* ``OutboxSmsBackend`` (the demo and tests): delivers nothing; the message stays readable in the demo outbox page.
  Production refuses it (``config.refuse_unsafe_production``).
* ``HttpSmsBackend``: POSTs ``{"to": …, "text": …}`` as JSON to ``EGOV_SMS_URL`` with ``Authorization: Bearer
  EGOV_SMS_TOKEN``, the shape most Vietnamese SMS brandname gateways accept behind a small adapter; the provider's
  message id comes back as ``{"id": …}``.

Email goes through Django's mail backend (``EGOV_EMAIL_BACKEND``: SMTP by default)."""
from __future__ import annotations

import email.policy
import json
import urllib.error
import urllib.request
from email.header import Header

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


class _EncodedSubject(str):
    """A Subject that folds itself (a non-ASCII one into RFC 2047 encoded words) when the message is generated.

    The email package's folder (``email.policy.SMTP``, which Django's SMTP backend uses) changes the spaces of long
    non-ASCII subjects it folds into several encoded words. Python 3.12.1 leaves a space outside, between two encoded
    words, where readers drop it (RFC 2047 §6.2: "tiếp nhận" arrives as "tiếpnhận"; CPython gh-92081); the fix of that
    added a blank instead in 3.13.0 (gh-120930). Tried here, a fifth of long Vietnamese subjects came out changed.
    ``email.header.Header`` puts the spaces inside the encoded words and keeps each line within the policy's length.
    The policy stores a value that has a ``name`` as an already parsed header and asks it to ``fold`` itself; as a
    str it reads back as the plain subject."""

    name = "Subject"

    def fold(self, *, policy) -> str:
        charset = "us-ascii" if self.isascii() else "utf-8"
        encoded = Header(str(self), charset, maxlinelen=policy.max_line_length or 78, header_name=self.name)
        return f"{self.name}: {encoded.encode(linesep=policy.linesep)}{policy.linesep}"


class _Email(EmailMessage):
    def message(self, *, policy=email.policy.default):
        msg = super().message(policy=policy)  # Django's checks first (no line breaks in a header)
        subject = str(self.subject)
        # An ASCII subject too: the policy's folder moves a long one whole to a continuation line, and the reader's
        # unfolding keeps that line's leading space (" Dossier … received"). With SMTPUTF8 (``utf8``) nothing is
        # encoded.
        if not getattr(policy, "utf8", False):
            msg.replace_header("Subject", _EncodedSubject(subject))
        return msg


def send_email(*, to: str, subject: str, text: str, cc: list[str] | None = None, bcc: list[str] | None = None,
               reply_to: str = "", sender_name: str = "", message_id: str = "") -> str:
    """Send one email. The sender address is always the platform's (``EGOV_EMAIL_FROM``): a client system names
    itself only as the display name, so that nobody sends in an agency's name from egov's servers. ``message_id``
    (``<uid@domain>``) comes back as the provider reference: bounce reports quote it."""
    from email.utils import formataddr, parseaddr

    sender = settings.DEFAULT_FROM_EMAIL
    if sender_name:
        sender = formataddr((sender_name, parseaddr(sender)[1]))
    headers = {"Message-ID": message_id} if message_id else {}
    try:
        _Email(subject=subject, body=text, from_email=sender, to=[to], cc=cc or None, bcc=bcc or None,
               reply_to=[reply_to] if reply_to else None, headers=headers).send()
    except OSError as error:  # SMTP refused or unreachable
        raise DeliveryFailed(f"email: {error}") from None
    return message_id or "email"


def _public_address(host: str, port: int) -> None:
    """Refuse a callback to a private, loopback or link-local address (a client system must not make egov call
    its own internal services), unless ``EGOV_MESSAGING_CALLBACK_PRIVATE`` allows it (demo and tests)."""
    import ipaddress
    import socket

    if settings.MESSAGING_CALLBACK_PRIVATE:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except OSError as error:
        raise DeliveryFailed(f"callback: {host}: {error}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            raise DeliveryFailed(f"callback: {host} resolves to a non-public address ({address})")


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead the call to an address the check above refuses: it is a failure instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


def post_callback(*, url: str, request_uid: str, body: dict, timeout: float = 10.0) -> str:
    """POST the GovStack Messaging callback (``callbackContent``: meta and base64 content) to a client system's
    callback address, with the ``requestUid`` header. Any answer but 2xx is a failure, tried again later."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryFailed("callback: the address is not an http(s) URL")
    _public_address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "requestUid": request_uid})
    try:
        with _NO_REDIRECTS.open(request, timeout=timeout) as response:
            return f"callback {response.status}"
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"callback: HTTP {error.code}") from None
    except (OSError, ValueError) as error:
        raise DeliveryFailed(f"callback: {error}") from None
