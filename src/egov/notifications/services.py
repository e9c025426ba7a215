"""Sending messages: the only code that writes the outbox and the in-app notices. Every message is stored (sealed)
and logged.

Two ways out:

* ``send()``: at once, for one-time codes (the person is waiting; a failure is told to them, never retried).
* The ledger consumer ``consume_events()`` turns each event that concerns a person (a dossier's applicant, a refund
  of their fees, a feedback's author) into an in-app notice (account holders) and queued email/SMS messages;
  ``deliver_due()`` sends the queued ones, and retries failures with exponential back-off until
  ``rules.MAX_ATTEMPTS``. ``run_once()`` does both; ``egov notify`` runs it in a loop.

Idempotent: every notice and message is keyed on the event (partition, seq) and channel, so an event handled twice
(the ledger delivers at least once) makes one notice and sends one message.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
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

def handle_event(event) -> None:
    """The consumer's handler: an event that concerns a person → their in-app notice (account holders), email and
    SMS (queued), in their language.

    * A dossier's applicant event (``rules.APPLICANT_EVENTS``), and a refund of their fees (``rules.REFUND_EVENTS``):
      the applicant's account gets all three (its own email and phone); a walk-in without an account gets email and
      SMS at the contact details in the sealed dossier (that read is logged, so the applicant sees it).
    * A feedback event that concerns its author (``rules.FEEDBACK_EVENTS``): likewise, the author's account, or the
      contact an anonymous author gave, sealed on the feedback (that read is logged as the feedback's).

    Runs inside the consumer's transaction: the notices and queued messages commit with the advanced offset."""
    if event.event_type in rules.APPLICANT_EVENTS and event.subject_type == "dossiers.dossier":
        _dossier_notice(event)
    elif event.event_type in rules.FEEDBACK_EVENTS and event.subject_type == "portal.feedback":
        _feedback_notice(event)
    elif event.event_type in rules.REFUND_EVENTS and event.subject_type == "payments.paymentrequest":
        _refund_notice(event)  # a refund of a credit that matched no request (subject: the refund) has nobody to tell


def _key(event, channel: str) -> str:
    return rules.source_key(event.event_type, event.partition, event.seq, channel)


def _queue(*, channel: str, to: str, text: texts.Text, purpose: str, user, source: str, now: dt.datetime) -> None:
    if not to or Message.objects.filter(source=source).exists():
        return
    message = Message(channel=channel, purpose=purpose, user=user, recipient_hint=mask(to), source=source,
                      status=Message.Status.PENDING, next_attempt_at=now)
    message.seal(recipient=to, subject=text.subject, text=text.sms if channel == Message.Channel.SMS else text.body)
    message.save()


def _queued_before(event) -> bool:
    """The event's email or SMS is queued already: it was handled before (a replay), so nothing sealed is opened
    again."""
    return Message.objects.filter(source__in=[_key(event, "email"), _key(event, "sms")]).exists()


def _queue_both(event, *, user, email: str, phone: str, text: texts.Text) -> None:
    now = timezone.now()
    for channel, to in ((Message.Channel.EMAIL, email), (Message.Channel.SMS, phone)):
        _queue(channel=channel, to=(to or "").strip(), text=text, purpose=event.event_type, user=user,
               source=_key(event, channel), now=now)


def _tell_account(event, user, compose, *, dossier_code: str = "", feedback_reference: str = "") -> None:
    """An account holder: the in-app notice, and email and SMS at the account's own address and phone, in the
    account's language. ``compose(language, private)`` writes the text: with ``private`` (email and SMS, sealed in
    the outbox) it may quote words kept sealed elsewhere, which the in-app notice (stored in clear) never does; it is
    called for the messages only when there are some to queue and none was queued before."""
    language = language_of(user)
    if not Notification.objects.filter(user=user, source=_key(event, "app")).exists():
        text = compose(language, False)
        Notification.objects.create(user=user, event_type=event.event_type, dossier_code=dossier_code,
                                    feedback_reference=feedback_reference, title=text.subject[:255], body=text.body,
                                    source=_key(event, "app"))
    if (user.email or user.phone) and not _queued_before(event):
        _queue_both(event, user=user, email=user.email, phone=user.phone, text=compose(language, True))


def _tell_applicant(event, dossier, compose) -> None:
    """The dossier's applicant: their account, or the contact details in the sealed dossier (a walk-in: read, and
    the read logged, only when there is something to send; the notice in Vietnamese)."""
    if dossier.applicant is not None:
        _tell_account(event, dossier.applicant, compose, dossier_code=dossier.code)
        return
    if _queued_before(event):
        return
    from egov.dossiers import services as dossier_services

    contact = dossier.content().get("applicant") or {}
    email, phone = (contact.get("email") or "").strip(), (contact.get("phone") or "").strip()
    if not email and not phone:
        return
    dossier_services.log_read(dossier, reader="notifications", purpose="notify the applicant")
    _queue_both(event, user=None, email=email, phone=phone, text=compose(texts.DEFAULT_LANGUAGE, True))


def _absolute(view: str, **kwargs) -> str:
    """A page's address as a message quotes it: absolute, on the platform's public address (``EGOV_PUBLIC_URL``)."""
    from django.conf import settings
    from django.urls import reverse

    return settings.PUBLIC_URL + reverse(view, kwargs=kwargs)


def _date(instant) -> str:
    from egov.kernel.calendar_rules import to_vn

    return to_vn(instant).strftime("%d/%m/%Y") if instant else ""


def _date_time(instant) -> str:
    """An appointment as the receipt (form 01) gives it: the day and the time, Vietnam time ("15/12/2026 11:30")."""
    from egov.kernel.calendar_rules import to_vn

    return to_vn(instant).strftime("%d/%m/%Y %H:%M") if instant else ""


def _instant(value: str | None, fallback):
    return dt.datetime.fromisoformat(value) if value else fallback


def _agency_name(agency, language: str) -> str:
    return (agency.name_en or agency.name) if language == "en" else agency.name


def _clock(value) -> str:
    return value.strftime("%H:%M") if hasattr(value, "strftime") else str(value)[:5]


def _office_hours(agency) -> str:
    return (f"{_clock(agency.morning_opens)}–{_clock(agency.morning_closes)}, "
            f"{_clock(agency.afternoon_opens)}–{_clock(agency.afternoon_closes)}")


# --- Dossier notices -------------------------------------------------------------------------------------------------

# Where the document an event quotes is, for events written before their payload named its transition: the dossier's
# latest transition of that kind.
_QUOTED = {"dossier.refuse": {"to_status": 3}, "dossier.request_supplement": {"to_status": 5},
           "dossier.request_fees": {"to_status": 6}, "dossier.rescheduled": {"form": "04"},
           "dossier.stopped": {"to_status": 8},
           "dossier.withdrawal_refused": {"from_status": 7, "form": "notice"}, "dossier.delivered": {"to_status": 10}}


def _quoted_transition(event, dossier):
    if event.event_type not in _QUOTED:
        return None
    transitions = dossier.transitions.all()
    reference = (event.payload or {}).get("transition")
    if reference:
        return transitions.filter(pk=reference).first()
    return transitions.filter(**_QUOTED[event.event_type]).order_by("-id").first()


def _appointment(event, dossier):
    """The appointment date as it stood at the event (in its payload); the dossier's own for an event written before
    payloads carried it."""
    payload = event.payload or {}
    if "appointment" in payload:
        return _instant(payload["appointment"], None)
    return dossier.appointment_at


def _fees(dossier, details: dict, language: str) -> dict:
    """What is due (the fee lines as asked, their total) and how to pay: the dossier's payment page for an applicant
    with an account; at the desk or by bank transfer with the dossier code (which credits it) for one without."""
    from django.conf import settings

    from egov.payments import rules as payment_rules

    from egov.payments.models import PaymentRequest

    # The lines as asked (counted from the dossier's answers when a fee counts copies or pages); a dossier whose fees
    # were requested without a payment request (cash at the desk) gets them from the version, at their minimum.
    request = PaymentRequest.objects.filter(dossier=dossier).order_by("-id").only("lines").first()
    lines = request.lines if request is not None else payment_rules.fee_lines(
        details.get("fees", dossier.procedure_version.fees))
    context = {"amount": texts.money(payment_rules.total(lines), language) if lines else "",
               "lines": [f"{line['name'] or line['code']}: {texts.money(line['amount'], language)}" for line in lines]}
    if dossier.applicant_id is not None:
        context["pay_link"] = _absolute("payments:pay", code=dossier.code)
    elif settings.PAYMENT_BANK_ACCOUNT:
        context.update(bank_account=settings.PAYMENT_BANK_ACCOUNT, bank_account_name=settings.PAYMENT_BANK_ACCOUNT_NAME,
                       transfer_content=payment_rules.transfer_content(dossier.code))
    return context


def _dossier_context(event, dossier, language: str) -> dict:
    payload = event.payload or {}
    agency = dossier.receiving_agency
    context = {"code": dossier.code, "procedure": dossier.procedure_version.name,
               "agency": _agency_name(agency, language),
               "status": texts.status_name(payload.get("status", dossier.status), language),
               "appointment": _date_time(_appointment(event, dossier)), "hours": _office_hours(agency),
               "link": _absolute("dossiers:detail", code=dossier.code) if dossier.applicant_id is not None else ""}
    transition = _quoted_transition(event, dossier)
    if transition is None:
        return context
    details = transition.details or {}
    if event.event_type == "dossier.request_supplement":
        context.update(missing=list(details.get("missing", [])), note=transition.note)
    elif event.event_type == "dossier.refuse":
        context["reasons"] = list(details.get("reasons", []))
    elif event.event_type in ("dossier.rescheduled", "dossier.stopped", "dossier.withdrawal_refused"):
        context["reason"] = transition.note or ""
    elif event.event_type == "dossier.request_fees":
        context.update(_fees(dossier, details, language))
    elif event.event_type == "dossier.delivered":
        context["method"] = details.get("method", "")
    return context


def _dossier_notice(event) -> None:
    from egov.dossiers.models import Dossier

    dossier = (Dossier.objects.select_related("procedure_version", "receiving_agency", "applicant")
               .filter(pk=int(event.subject_id)).first())
    if dossier is None:
        return
    if event.event_type == "dossier.result_ready" and dossier.result_delivery == "online":
        return  # the platform delivered it online in the same transaction: the "delivered" notice says it, once

    @functools.cache
    def compose(language: str, private: bool) -> texts.Text:
        return texts.render(event.event_type, language, _dossier_context(event, dossier, language))

    _tell_applicant(event, dossier, compose)


# --- Refund notices --------------------------------------------------------------------------------------------------

def _refund_notice(event) -> None:
    """A refund of the applicant's money started (how much, why) or completed. The refund is the one the payload
    names; an older confirmation that names none, the request's only completed refund."""
    from egov.dossiers.models import Status
    from egov.payments.models import PaymentRequest, Refund

    request = (PaymentRequest.objects.select_related("dossier__procedure_version", "dossier__receiving_agency",
                                                     "dossier__applicant")
               .filter(pk=int(event.subject_id)).first())
    if request is None:
        return
    payload = event.payload or {}
    refunds = Refund.objects.filter(request=request)
    if payload.get("refund"):
        refund = refunds.filter(reference=payload["refund"]).first()
    else:
        completed = list(refunds.filter(status=Refund.Status.COMPLETED)[:2])
        refund = completed[0] if len(completed) == 1 else None
    if refund is None:
        return
    dossier = request.dossier
    withdrawn = dossier.transitions.filter(to_status=Status.STOPPED, details__reason="withdrawn").exists()
    cause = rules.refund_cause(refund.reason, withdrawn=withdrawn)
    amount = payload.get("amount") if isinstance(payload.get("amount"), int) else refund.amount

    @functools.cache
    def compose(language: str, private: bool) -> texts.Text:
        context = {"code": dossier.code, "procedure": dossier.procedure_version.name,
                   "agency": _agency_name(dossier.receiving_agency, language), "refund": refund.reference,
                   "amount": texts.money(amount, language), "cause": cause,
                   "due_amount": texts.money(request.amount, language),
                   "link": _absolute("dossiers:detail", code=dossier.code) if dossier.applicant_id else "",
                   "pay_link": _absolute("payments:pay", code=dossier.code) if dossier.applicant_id else ""}
        return texts.render(event.event_type, language, context)

    _tell_applicant(event, dossier, compose)


# --- Feedback notices ------------------------------------------------------------------------------------------------

# The agency's words a feedback event carries to the author (sealed in the feedback's thread, by their kind).
_WORDS = {"feedback.refused": "refusal", "feedback.more_info_requested": "question", "feedback.answered": "answer"}
_WORD_NAMES = {"refusal": "reason", "question": "question", "answer": "answer"}


def _words(event, content: dict) -> str:
    """The agency's words of this event: the n-th entry of its kind in the thread for the n-th such event (the
    agency may ask twice), so that a notice sent late quotes its own question, not a newer one."""
    from egov.kernel.ledger_models import Event

    kind = _WORDS.get(event.event_type)
    if kind is None:
        return ""
    entries = [entry for entry in content.get("thread", []) if entry.get("kind") == kind]
    if not entries:
        return ""
    nth = Event.objects.filter(partition=event.partition, event_type=event.event_type,
                               subject_type=event.subject_type, subject_id=event.subject_id,
                               seq__lte=event.seq).count()
    return entries[min(max(nth, 1), len(entries)) - 1].get("text", "")


def _feedback_context(event, feedback, language: str) -> dict:
    from egov.portal.feedback_services import deadline_days

    payload = event.payload or {}
    return {"reference": feedback.reference, "agency": _agency_name(feedback.agency, language),
            "refuse_due": _date(feedback.refuse_due),
            "answer_due": _date(_instant(payload.get("answer_due"), feedback.answer_due)),
            "publish_due": _date(feedback.publish_due), "answer_days": deadline_days(feedback)["answer"],
            "answers_link": _absolute("portal:feedback_answers"), "link": "", "reply_link": ""}


def _feedback_notice(event) -> None:
    from egov.portal import feedback_services
    from egov.portal.feedback_models import Feedback, FeedbackStatus

    feedback = Feedback.objects.select_related("agency", "author").filter(pk=int(event.subject_id)).first()
    if feedback is None:
        return
    name = _WORD_NAMES.get(_WORDS.get(event.event_type, ""), "")
    if feedback.author is not None:
        link = _absolute("portal:feedback_mine_detail", reference=feedback.reference)

        @functools.cache
        def compose(language: str, private: bool) -> texts.Text:
            context = {**_feedback_context(event, feedback, language), "link": link, "reply_link": link}
            if private and name:  # the agency's words, for the email and SMS only: opening them is a read, logged
                feedback_services.log_read(feedback, reader="notifications", purpose="notify the author")
                words = _words(event, feedback.content())
                context.update({name: words, "sms_words": rules.sms_excerpt(words, whole=False)})
            return texts.render(event.event_type, language, context)

        _tell_account(event, feedback.author, compose, feedback_reference=feedback.reference)
        return
    if _queued_before(event):
        return
    content = feedback.content()
    contact = content.get("contact") or {}
    email, phone = (contact.get("email") or "").strip(), (contact.get("phone") or "").strip()
    if not email and not phone:
        return
    feedback_services.log_read(feedback, reader="notifications", purpose="notify the author")
    language = texts.DEFAULT_LANGUAGE
    context = _feedback_context(event, feedback, language)
    if name:  # no page to link to: the agency's words go whole by email, and by SMS (cut when email has them too)
        words = _words(event, content)
        sms_words = rules.sms_excerpt(words, whole=not email)
        context.update({name: words, "sms_words": sms_words, "sms_cut": sms_words != " ".join(words.split())})
    if event.event_type == "feedback.more_info_requested" and feedback.status == FeedbackStatus.MORE_INFO:
        # Without an account, the author answers through a link of their own (valid for the latest question).
        context["reply_link"] = _absolute("portal:feedback_reply_by_link",
                                          token=feedback_services.reply_link_token(feedback))
    _queue_both(event, user=None, email=email, phone=phone, text=texts.render(event.event_type, language, context))


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
