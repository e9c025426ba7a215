"""Sending messages: the only code that writes the outbox and the in-app notices. Every message is stored (sealed)
and logged.

Two ways out:

* ``send()``: at once, for one-time codes (the person is waiting; a failure is told to them, never retried).
* The ledger consumer ``consume_events()`` turns each dossier event that concerns the applicant into an in-app notice
  (account holders) and queued email/SMS messages; ``deliver_due()`` sends the queued ones, and retries failures with
  exponential back-off until ``rules.MAX_ATTEMPTS``. ``run_once()`` does both; ``egov notify`` runs it in a loop.

Idempotent: every notice and message is keyed on the event (partition, seq) and channel, so an event handled twice
(the ledger delivers at least once) makes one notice and sends one message.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from egov.kernel import ledger
from egov.notifications import backends, rules, texts
from egov.notifications.models import Language, Message, MessageRequest, Notification, Preference

logger = logging.getLogger("egov.notifications")

CONSUMER = "notifications"


def mask(recipient: str) -> str:
    """What a person may be shown of where a code went: ``09******34``, ``d***@example.org``."""
    recipient = recipient.strip()
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = recipient.replace(" ", "")
    return digits[:2] + "*" * max(0, len(digits) - 4) + digits[-2:] if len(digits) > 4 else "*" * len(digits)


def send(*, channel: str, to: str, subject: str, text: str, purpose: str, user=None) -> Message:
    """Deliver ``text`` to ``to`` by ``channel`` and keep it in the outbox. A failed delivery is recorded, then
    raised as ``backends.DeliveryFailed`` so that the caller can tell the person."""
    message = Message(channel=channel, purpose=purpose, user=user, recipient_hint=mask(to), attempts=1)
    message.seal(recipient=to, subject=subject, text=text)
    error = None
    try:
        if channel == Message.Channel.SMS:
            message.provider_reference = backends.sms_backend().send(to=to, text=text)
        else:
            message.provider_reference = backends.send_email(to=to, subject=subject, text=text)
        message.status, message.sent_at = Message.Status.SENT, timezone.now()
    except backends.DeliveryFailed as failure:
        error = failure
        message.status, message.error = Message.Status.FAILED, str(failure)[:255]
    with transaction.atomic():
        message.save()
        ledger.append("notification.sent" if error is None else "notification.failed", partition="platform",
                      subject=message, payload={"channel": channel, "purpose": purpose})
    if error is not None:
        raise error
    return message


def message_key_usage() -> dict[str, int]:
    from egov.kernel import crypto

    return crypto.count_by_key(Message)


def rotate_message_batch(old_key_ids: list[str], active, batch_size: int) -> int:
    """Re-seal a batch of messages still under an old key (``egov keys rotate``)."""
    from egov.kernel import crypto

    return crypto.reseal_batch(Message, old_key_ids, batch_size,
                               lambda message: message.seal(**message.content(), key=active), ["sealed", "key_id"])


# --- Preferences -----------------------------------------------------------------------------------------------------

def language_of(user) -> str:
    """The language of ``user``'s notices: their choice, else Vietnamese."""
    preference = Preference.objects.filter(user=user).values_list("language", flat=True).first()
    return preference or Language.VI


def set_language(user, language: str) -> Preference:
    if language not in Language.values:
        raise ValueError(f"no notices are written in {language!r}")
    preference, _ = Preference.objects.update_or_create(user=user, defaults={"language": language})
    return preference


# --- In-app notices --------------------------------------------------------------------------------------------------

def mark_read(user, notification_id: int, *, at: dt.datetime | None = None) -> Notification:
    """Đánh dấu đã đọc. Only the account's own notices: another's is "not found" (404), not "forbidden", so that
    nobody learns which notices exist."""
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise Http404("no such notification")
    if notification.read_at is None:
        notification.read_at = at or timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user, *, at: dt.datetime | None = None) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=at or timezone.now())


# --- The ledger consumer ---------------------------------------------------------------------------------------------

def _context(dossier, status: int, language: str) -> dict:
    from egov.kernel.calendar_rules import to_vn

    status_label = texts.status_name(status, language)
    appointment = to_vn(dossier.appointment_at).strftime("%d/%m/%Y") if dossier.appointment_at else ""
    return {"code": dossier.code, "procedure": dossier.procedure_version.name,
            "agency": dossier.receiving_agency.name, "status": status_label, "appointment": appointment}


def _queue(*, channel: str, to: str, text: texts.Text, purpose: str, user, source: str, now: dt.datetime) -> None:
    if not to or Message.objects.filter(source=source).exists():
        return
    message = Message(channel=channel, purpose=purpose, user=user, recipient_hint=mask(to), source=source,
                      status=Message.Status.PENDING, next_attempt_at=now)
    message.seal(recipient=to, subject=text.subject, text=text.sms if channel == Message.Channel.SMS else text.body)
    message.save()


def handle_event(event) -> None:
    """The consumer's handler: one dossier event → the applicant's in-app notice, email and SMS (queued).

    The applicant's account gets all three (its own email and phone); a walk-in without an account gets email and
    SMS at the contact details in the sealed dossier (that read is logged, so the applicant sees it). Runs inside the
    consumer's transaction: the notices and queued messages commit with the advanced offset."""
    if event.event_type not in rules.APPLICANT_EVENTS or event.subject_type != "dossiers.dossier":
        return
    from egov.dossiers.models import Dossier

    dossier = (Dossier.objects.select_related("procedure_version", "receiving_agency", "applicant")
               .filter(pk=int(event.subject_id)).first())
    if dossier is None:
        return
    status = (event.payload or {}).get("status", dossier.status)
    now = timezone.now()

    def key(channel: str) -> str:
        return rules.source_key(event.event_type, event.partition, event.seq, channel)

    user = dossier.applicant
    if user is not None:
        language = language_of(user)
        text = texts.render(event.event_type, language, _context(dossier, status, language))
        if not Notification.objects.filter(user=user, source=key("app")).exists():
            Notification.objects.create(user=user, event_type=event.event_type, dossier_code=dossier.code,
                                        title=text.subject[:255], body=text.body, source=key("app"))
        _queue(channel=Message.Channel.EMAIL, to=user.email, text=text, purpose=event.event_type, user=user,
               source=key("email"), now=now)
        _queue(channel=Message.Channel.SMS, to=user.phone, text=text, purpose=event.event_type, user=user,
               source=key("sms"), now=now)
        return
    if Message.objects.filter(source__in=[key("email"), key("sms")]).exists():
        return  # handled before (a replay): do not read the sealed contact details again
    from egov.dossiers import services as dossier_services

    contact = dossier.content().get("applicant") or {}
    email, phone = (contact.get("email") or "").strip(), (contact.get("phone") or "").strip()
    if not email and not phone:
        return
    dossier_services.log_read(dossier, reader="notifications", purpose="notify the applicant")
    text = texts.render(event.event_type, texts.DEFAULT_LANGUAGE, _context(dossier, status, texts.DEFAULT_LANGUAGE))
    _queue(channel=Message.Channel.EMAIL, to=email, text=text, purpose=event.event_type, user=None,
           source=key("email"), now=now)
    _queue(channel=Message.Channel.SMS, to=phone, text=text, purpose=event.event_type, user=None,
           source=key("sms"), now=now)


def consume_events(batch_size: int = 500) -> int:
    """Read the ledger from the consumer's stored offsets and queue the notices. Returns how many events were read."""
    return ledger.consume(CONSUMER, handle_event, batch_size=batch_size)


# --- Delivery with retries -------------------------------------------------------------------------------------------

@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.failed} failed (to retry), {self.gave_up} given up"


def _due(now: dt.datetime, limit: int) -> list[Message]:
    """Messages whose next attempt is due, each claimed for this worker by moving its next attempt a lease ahead.
    PostgreSQL: ``SKIP LOCKED`` lets many workers take different rows; everywhere, the claim is a conditional update
    (still due and unchanged), so two workers never both send one message."""
    due = (Message.objects.filter(next_attempt_at__lte=now, status__in=[Message.Status.PENDING, Message.Status.FAILED])
           .order_by("next_attempt_at", "id"))
    claimed = []
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for message in due[:limit]:
            taken = (Message.objects.filter(pk=message.pk, next_attempt_at=message.next_attempt_at,
                                            status=message.status)
                     .update(next_attempt_at=now + rules.LEASE, attempts=F("attempts") + 1))
            if taken:
                message.attempts += 1
                claimed.append(message)
    return claimed


def _deliver(message: Message) -> str:
    content = message.content()
    if message.channel == Message.Channel.SMS:
        return backends.sms_backend().send(to=content["recipient"], text=content["text"])
    if message.channel == Message.Channel.CALLBACK:
        return backends.post_callback(url=content["recipient"], request_uid=content["subject"],
                                      body=json.loads(content["text"]))
    return backends.send_email(to=content["recipient"], subject=content["subject"], text=content["text"],
                               cc=content.get("cc"), bcc=content.get("bcc"), reply_to=content.get("reply_to", ""),
                               sender_name=content.get("sender_name", ""), message_id=message_id(message))


def message_id(message: Message) -> str:
    """The email's Message-ID: the message's reference, so that a provider's delivery report can name it."""
    from email.utils import parseaddr

    from django.conf import settings

    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "egov.localhost"
    return f"<{message.uid}@{domain}>"


def deliver_due(*, now: dt.datetime | None = None, limit: int = 100,
                max_attempts: int = rules.MAX_ATTEMPTS) -> DeliveryReport:
    """Send the queued messages that are due. A failure is kept with its error and tried again after
    ``rules.backoff(attempts)``; after ``max_attempts`` attempts it is given up (administrators see both)."""
    now = now or timezone.now()
    report = DeliveryReport()
    for message in _due(now, limit):
        try:
            reference = _deliver(message)
        except backends.DeliveryFailed as failure:
            gave_up = rules.gives_up(message.attempts, max_attempts)
            message.status = Message.Status.GAVE_UP if gave_up else Message.Status.FAILED
            message.next_attempt_at = None if gave_up else now + rules.backoff(message.attempts)
            message.error = str(failure)[:255]
            event = "notification.gave_up" if gave_up else "notification.failed"
            if gave_up:
                report.gave_up += 1
                logger.warning("notification %s given up after %s attempts: %s", message.uid, message.attempts,
                               message.error)
            else:
                report.failed += 1
        else:
            message.status, message.next_attempt_at, message.sent_at = Message.Status.SENT, None, timezone.now()
            message.provider_reference, message.error = reference[:100], ""
            event = "notification.sent"
            report.sent += 1
        with transaction.atomic():
            message.save(update_fields=["status", "next_attempt_at", "sent_at", "provider_reference", "error"])
            ledger.append(event, partition="platform", subject=message,
                          payload={"channel": message.channel, "purpose": message.purpose,
                                   "attempts": message.attempts})
            if message.request_id is not None and event != "notification.failed":
                settle_request(message.request_id, now=now)
    return report


def retry_now(message_ids) -> int:
    """An administrator's "try again now": failed or given-up queued messages become due at once, with a fresh
    count of attempts."""
    return (Message.objects.filter(pk__in=list(message_ids), source__isnull=False,
                                   status__in=[Message.Status.FAILED, Message.Status.GAVE_UP])
            .update(status=Message.Status.FAILED, next_attempt_at=timezone.now(), attempts=0))


def run_once(*, now: dt.datetime | None = None) -> tuple[int, DeliveryReport]:
    """One pass: read new events, then send what is due. Returns (events read, delivery report)."""
    events = consume_events()
    return events, deliver_due(now=now)


# --- Requests of client systems (GovStack Messaging) -----------------------------------------------------------------

@dataclass
class Outgoing:
    """One email of a request, as the client system asked for it."""
    to: str
    subject: str
    text: str
    cc: list[str]
    bcc: list[str]
    reply_to: str = ""
    sender_name: str = ""


UNSETTLED = (Message.Status.PENDING, Message.Status.FAILED)
CALLBACK_PURPOSE = "messaging.callback"


@transaction.atomic
def accept_request(*, client, emails: list[Outgoing], rejected: list[dict], callback_uri: str = "",
                   purpose: str = "messaging.email") -> MessageRequest:
    """Accept a client system's request: every email is queued (sent by the delivery loop, retried with back-off);
    ``rejected`` recipients (position and reason, never the address) are counted as not sent. One ledger event for
    the request, with counts only: the recipients stay sealed in the outbox."""
    now = timezone.now()
    request = MessageRequest.objects.create(client=client, channel=Message.Channel.EMAIL, callback_uri=callback_uri,
                                            not_sent=len(rejected), rejected=rejected)
    messages = []
    for email in emails:
        message = Message(channel=Message.Channel.EMAIL, purpose=purpose, recipient_hint=mask(email.to),
                          status=Message.Status.PENDING, next_attempt_at=now, request=request)
        extra = {key: value for key, value in (("cc", email.cc), ("bcc", email.bcc), ("reply_to", email.reply_to),
                                               ("sender_name", email.sender_name)) if value}
        message.seal(recipient=email.to, subject=email.subject, text=email.text, **extra)
        messages.append(message)
    Message.objects.bulk_create(messages, batch_size=500)
    ledger.append("messaging.accepted", partition=client.agency.code, actor=client, subject=request,
                  payload={"request": str(request.uid), "channel": request.channel, "queued": len(messages),
                           "not_sent": len(rejected)})
    if not messages:
        settle_request(request.pk, now=now)
    return request


def request_counts(request: MessageRequest) -> dict[str, int]:
    """How many of the request's messages are in each outbox status, plus ``rejected`` (refused at once)."""
    counts = {status: 0 for status in Message.Status.values}
    for row in request.messages.values("status", "attempts").order_by():
        key = row["status"]
        if key == Message.Status.PENDING and row["attempts"]:
            key = "processing"  # taken by a delivery worker, not settled yet
        counts[key] = counts.get(key, 0) + 1
    counts["rejected"] = request.not_sent
    return counts


def settle_request(request_id: int, *, now: dt.datetime | None = None) -> Message | None:
    """When none of a request's messages waits any more, queue its callback (once: keyed on the request), for the
    delivery loop to POST with retries. Returns the callback message when queued now."""
    request = MessageRequest.objects.filter(pk=request_id).first()
    if request is None or not request.callback_uri or request.messages.filter(status__in=UNSETTLED).exists():
        return None
    source = f"{CALLBACK_PURPOSE}:{request.uid}"
    if Message.objects.filter(source=source).exists():
        return None
    body = {"meta": "status", "content": base64.b64encode(json.dumps(
        {"requestUid": str(request.uid), **rules.govstack_status(request_counts(request))}).encode()).decode()}
    callback = Message(channel=Message.Channel.CALLBACK, purpose=CALLBACK_PURPOSE, recipient_hint=_host(request),
                       status=Message.Status.PENDING, next_attempt_at=now or timezone.now(), source=source)
    callback.seal(recipient=request.callback_uri, subject=str(request.uid), text=json.dumps(body))
    try:
        with transaction.atomic():
            callback.save()
    except IntegrityError:  # another worker settled it at the same moment
        return None
    return callback


def _host(request: MessageRequest) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(request.callback_uri).hostname or "")[:64]


@transaction.atomic
def report_delivery(*, request: MessageRequest, outcome: str, references: list[str], reporter) -> int:
    """A provider's delivery report for messages of ``request``: ``bounced`` (undeliverable after all) or
    ``delivered``. Messages are named by their reference (the uid in their Message-ID); others are ignored.
    Returns how many changed."""
    uids = []
    for reference in references:
        text = str(reference).strip().strip("<>").partition("@")[0]
        try:
            uids.append(uuid.UUID(text))
        except ValueError:
            continue
    status = Message.Status.BOUNCED if outcome == "bounced" else Message.Status.SENT
    changed = (request.messages.filter(uid__in=uids, status__in=[Message.Status.SENT, Message.Status.BOUNCED])
               .exclude(status=status).update(status=status))
    ledger.append("messaging.delivery_reported", partition=request.client.agency.code, actor=reporter,
                  subject=request, payload={"request": str(request.uid), "outcome": outcome, "changed": changed})
    return changed
