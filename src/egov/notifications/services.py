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

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from egov.kernel import ledger
from egov.notifications import backends, rules, texts
from egov.notifications.models import Language, Message, Notification, Preference

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
    return backends.send_email(to=content["recipient"], subject=content["subject"], text=content["text"])


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
