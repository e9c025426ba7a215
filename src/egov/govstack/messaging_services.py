"""GovStack Messaging BB over the notifications component: what a client system's call means, checked here.

* Rights per client system (``egov.exchange``): ``messaging.send`` to send emails and read their status,
  ``messaging.report`` for an email provider's delivery reports. Only client systems call this API.
* A request (``notifications.MessageRequest``) is the unit the spec tracks by ``requestUid``: one email, or a batch
  whose recipients come as base64 JSON. Each recipient is one queued ``Message`` (sealed), delivered by the
  notifications delivery loop with retries; an invalid recipient of a batch is refused alone (counted ``notSent``,
  its position and reason in the answer), the others go out.
* A status is read only by the client system that made the request: another's ``requestUid`` is "not found".
* The spec's "Invalid input" is its 405; the body is a problem+json like every egov error.
"""
from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from egov.kernel.access import Caller, Denied
from egov.notifications import rules as notification_rules
from egov.notifications import services as notifications
from egov.notifications.models import MessageRequest

SEND = "messaging.send"
REPORT = "messaging.report"
INVALID = 405  # the spec's status for invalid input
MAX_COPIES = 10  # addresses in emailCC / emailBCC (comma-separated)
MAX_SUBJECT = 255
MAX_TEXT = 100_000
MAX_CALLBACK = 2000


class MessagingError(Exception):
    def __init__(self, status: int, message: str, field: str = "", errors: list[dict] | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.errors = status, message, field, errors or []

    @property
    def title(self) -> str:
        return {INVALID: "Invalid input", 404: "Not found"}.get(self.status, "Error")


def invalid(message, field_name: str) -> MessagingError:
    return MessagingError(INVALID, str(message), field_name,
                          [{"field": field_name, "message": str(message), "type": "invalid"}])


def require(caller: Caller, right: str) -> None:
    if caller.kind != "client":
        raise Denied(_("The Messaging API is for client systems (send your API key)."))
    if not caller.may(right):
        raise Denied(_("This client system has no right to %(right)s.") % {"right": right})


# --- Parsing the spec's shapes ---------------------------------------------------------------------------------

def _address(value, field_name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise invalid(_("An email address is required."), field_name)
    try:
        validate_email(text)
    except ValidationError:
        raise invalid(_("Not a valid email address."), field_name) from None
    return text


def _addresses(value, field_name: str) -> list[str]:
    parts = [part.strip() for part in (value or "").split(",") if part.strip()]
    if len(parts) > MAX_COPIES:
        raise invalid(_("At most %(count)s addresses.") % {"count": MAX_COPIES}, field_name)
    return [_address(part, field_name) for part in parts]


@dataclass
class Content:
    subject: str
    text: str
    reply_to: str
    sender_name: str


def _content(email_content, sender_info) -> Content:
    email_content = email_content or {}
    encoding = (email_content.get("encoding") or "UTF-8").strip().upper().replace("_", "-")
    if encoding not in ("UTF-8", "UTF8"):
        raise invalid(_("Only UTF-8 content is accepted."), "emailContent.encoding")
    subject = (email_content.get("title") or "").strip()
    text = email_content.get("content") or ""
    if not subject:
        raise invalid(_("The email needs a title."), "emailContent.title")
    if len(subject) > MAX_SUBJECT or "\n" in subject or "\r" in subject:
        raise invalid(_("The title is one line of at most %(count)s characters.") % {"count": MAX_SUBJECT},
                      "emailContent.title")
    if not text.strip():
        raise invalid(_("The email needs content."), "emailContent.content")
    if len(text) > MAX_TEXT:
        raise invalid(_("The content is longer than %(count)s characters.") % {"count": MAX_TEXT},
                      "emailContent.content")
    sender_info = sender_info or {}
    reply_to = sender_info.get("replyTo") or ""
    reply_to = _address(reply_to, "senderInfo.replyTo") if reply_to.strip() else ""
    # The display name: who writes, on whose behalf. The address stays egov's own (backends.send_email).
    names = [sender_info.get(key) or "" for key in ("name", "organisationName", "onBehalfOfName")]
    sender_name = " – ".join(dict.fromkeys(name.strip() for name in names if name and name.strip()))
    return Content(subject, text, reply_to, sender_name.replace("\n", " ")[:120])


def _callback(callback, field_name: str) -> str:
    from urllib.parse import urlsplit

    uri = ((callback or {}).get("URI") or "").strip()
    if not uri:
        return ""
    parts = urlsplit(uri)
    allowed = ("https",) if settings.ENV == "production" else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname or len(uri) > MAX_CALLBACK:
        raise invalid(_("The callback URI must be an absolute %(schemes)s address of at most %(count)s characters.")
                      % {"schemes": " or ".join(allowed), "count": MAX_CALLBACK}, field_name)
    return uri


def _outgoing(recipient_info, content: Content, prefix: str) -> notifications.Outgoing:
    recipient_info = recipient_info or {}
    return notifications.Outgoing(
        to=_address(recipient_info.get("email"), f"{prefix}.email"),
        subject=content.subject, text=content.text,
        cc=_addresses(recipient_info.get("emailCC"), f"{prefix}.emailCC"),
        bcc=_addresses(recipient_info.get("emailBCC"), f"{prefix}.emailBCC"),
        reply_to=content.reply_to, sender_name=content.sender_name)


# --- Actions -------------------------------------------------------------------------------------------------------

def send_single(caller: Caller, body: dict) -> MessageRequest:
    """sendSingleEmail: one email, queued; its request is tracked by the returned request's uid."""
    require(caller, SEND)
    content = _content(body.get("emailContent"), body.get("senderInfo"))
    email = _outgoing(body.get("recipientInfo"), content, "recipientInfo")
    callback = _callback(body.get("callback"), "callback.URI")
    return notifications.accept_request(client=caller.actor, emails=[email], rejected=[], callback_uri=callback)


def _batch_entries(encoded) -> list:
    field_name = "recipientInfo.batchEmailAsBase64"
    if not (encoded or "").strip():
        raise invalid(_("The recipients are required, as base64 JSON."), field_name)
    try:
        entries = json.loads(base64.b64decode(encoded.strip(), validate=True).decode("utf-8"))
    except (binascii.Error, ValueError):
        raise invalid(_("Not base64 of a JSON list of recipients."), field_name) from None
    if not isinstance(entries, list) or not entries:
        raise invalid(_("Not base64 of a JSON list of recipients."), field_name)
    if len(entries) > settings.MESSAGING_BATCH_MAX:
        raise invalid(_("At most %(count)s recipients in one batch: split it.") % {"count": settings.MESSAGING_BATCH_MAX},
                      field_name)
    return entries


def send_batch(caller: Caller, body: dict) -> tuple[MessageRequest, list[dict]]:
    """sendBatchEmail: the same email to many recipients. An invalid recipient is refused alone (returned with its
    position and reason, counted notSent); the others are queued. The whole call is refused only when its shape is
    wrong (not base64 JSON, too many recipients, no valid content)."""
    require(caller, SEND)
    content = _content(body.get("emailContent"), body.get("senderInfo"))
    callback = _callback(body.get("callbackURI"), "callbackURI.URI")
    entries = _batch_entries((body.get("recipientInfo") or {}).get("batchEmailAsBase64"))
    emails, rejected = [], []
    for index, entry in enumerate(entries):
        prefix = f"batchEmailAsBase64[{index}].recipientInfo"
        try:
            info = entry.get("recipientInfo") if isinstance(entry, dict) else None
            if not isinstance(info, dict):
                raise invalid(_("Each recipient is an object with recipientInfo."), prefix)
            emails.append(_outgoing(info, content, prefix))
        except MessagingError as error:
            rejected.append({"index": index, "field": error.field, "message": error.message})
    request = notifications.accept_request(client=caller.actor, emails=emails, rejected=rejected,
                                           callback_uri=callback)
    return request, rejected


def _own_request(caller: Caller, request_uid: str | None, *, any_client: bool = False) -> MessageRequest:
    try:
        uid = uuid.UUID((request_uid or "").strip())
    except ValueError:
        raise invalid(_("requestUid is the value the send call returned."), "requestUid") from None
    requests = MessageRequest.objects.select_related("client__agency").filter(uid=uid)
    if not any_client:
        requests = requests.filter(client=caller.actor)
    request = requests.first()
    if request is None:  # another system's request is not found either: nobody learns which exist
        raise MessagingError(404, _("No request of yours has this requestUid."), "requestUid")
    return request


def status(caller: Caller, request_uid: str | None, wanted: list[str]) -> dict[str, int]:
    """getEmailStatus: how many of the request's emails are in each of the wanted statuses."""
    require(caller, SEND)
    request = _own_request(caller, request_uid)
    counts = notification_rules.govstack_status(notifications.request_counts(request))
    return {name: counts[name] for name in (wanted or notification_rules.GOVSTACK_STATUSES)}


REPORT_OUTCOMES = ("delivered", "bounced")


def report(caller: Caller, request_uid: str | None, meta: str | None, content: str | None) -> int:
    """callbackEmail on egov's side: an email provider reports what became of messages it took. ``meta`` is the
    outcome (``delivered`` or ``bounced``); ``content`` base64 JSON ``{"references": [Message-ID, …]}``."""
    require(caller, REPORT)
    request = _own_request(caller, request_uid, any_client=True)
    outcome = (meta or "").strip()
    if outcome not in REPORT_OUTCOMES:
        raise invalid(_("meta is the outcome: delivered or bounced."), "meta")
    try:
        data = json.loads(base64.b64decode((content or "").strip(), validate=True).decode("utf-8"))
        references = data["references"]
        if not isinstance(references, list) or not all(isinstance(item, str) for item in references):
            raise TypeError
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid(_('content is base64 of {"references": [Message-ID, …]}.'), "content") from None
    if len(references) > settings.MESSAGING_BATCH_MAX:
        raise invalid(_("At most %(count)s references in one report.") % {"count": settings.MESSAGING_BATCH_MAX},
                      "content")
    return notifications.report_delivery(request=request, outcome=outcome, references=references,
                                         reporter=caller.actor)
