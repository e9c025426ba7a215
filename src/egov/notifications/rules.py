"""Pure rules of notifications (no I/O): which events tell the applicant (or a feedback's author) something, why a
refund goes back, and when a failed message is tried again.

Back-off: the n-th failed attempt waits ``BASE_DELAY * 2**(n-1)`` (1, 2, 4, 8, 16 minutes ...), capped at
``MAX_DELAY``; after ``MAX_ATTEMPTS`` attempts the message is given up and stays visible to administrators."""
from __future__ import annotations

import datetime as dt

BASE_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(hours=6)
MAX_ATTEMPTS = 6
# How long a message taken by one worker stays away from the others while it is being sent: a worker that dies
# mid-send leaves the message to be tried again after this (the provider may then see it twice; nothing is lost).
LEASE = dt.timedelta(minutes=5)

# Dossier events that concern the applicant (each has a template per language under templates/notifications/).
# Internal events (a processing step done, a read, a registry effect, a result file attached) tell them nothing.
APPLICANT_EVENTS = (
    "dossier.submitted",             # 1: the dossier code
    "dossier.received",              # 2: received, appointment date (form 01)
    "dossier.refuse",                # 3: not received (form 03)
    "dossier.request_supplement",    # 5: supplement requested (form 02)
    "dossier.supplied",              # supplement received
    "dossier.transfer",              # 4: being processed
    "dossier.request_fees",          # 6: fees due
    "dossier.fees_paid",             # 6 → 4
    "dossier.rescheduled",           # form 04: apology and new appointment date
    "dossier.result_ready",          # 9
    "dossier.delivered",             # 10
    "dossier.request_withdrawal",    # 7
    "dossier.withdrawn",             # 7 → 8 (form 05)
    "dossier.withdrawal_refused",    # 7 → back
    "dossier.stopped",               # 8 (form 05)
)

# Feedback events that concern its author (phản ánh, kiến nghị): each tells them the reference, what happened and what
# comes next, by when. The agency's reads and its internal handling tell them nothing.
FEEDBACK_EVENTS = (
    "feedback.submitted",            # the reference; decided within 2 working days, answered within 15
    "feedback.accepted",             # taken up; the answer's due date
    "feedback.refused",              # the reason
    "feedback.more_info_requested",  # the question, and how to answer it
    "feedback.more_info_supplied",   # the information arrived; the answer's new due date
    "feedback.answered",             # the answer
    "feedback.published",            # the answer made public, without personal data
)

# Payment events that concern the applicant: money of theirs going back (the request's subject; a credit that matched
# no request has nobody known to tell).
REFUND_EVENTS = (
    "payment.refund_requested",      # a refund started: how much, why
    "payment.refund_confirmed",      # the provider confirmed it
)

NOTICE_EVENTS = APPLICANT_EVENTS + FEEDBACK_EVENTS + REFUND_EVENTS

# Why money goes back, as the applicant is told: the dossier stopped, or withdrawn, after its fees were paid; a
# payment of the wrong amount (the fees stay due); a payment the fees no longer needed (paid twice, after paying at
# the desk, after the dossier stopped or the fees were refunded).
REFUND_CAUSES = ("stopped", "withdrawn", "wrong_amount", "double_payment", "other")


def refund_cause(reason: str, *, withdrawn: bool = False) -> str:
    """The cause of a refund from the reason ``egov.payments.services`` keeps on it (its words for officers:
    "processing stopped", "wrong amount: …", "paid twice: …", "paid after …"); ``withdrawn``: the dossier stopped on
    the applicant's withdrawal."""
    reason = " ".join((reason or "").split()).lower()
    if reason.startswith("processing stopped"):
        return "withdrawn" if withdrawn else "stopped"
    if reason.startswith("wrong amount"):
        return "wrong_amount"
    if reason.startswith(("paid twice", "paid after")):
        return "double_payment"
    return "other"


# An SMS quotes at most this much of the agency's words when the same words also go by email (a long answer in full
# would be many SMS); an author reachable only by SMS gets them whole.
SMS_EXCERPT = 300


def sms_excerpt(text: str, *, whole: bool, limit: int = SMS_EXCERPT) -> str:
    """``text`` on one line for an SMS, ending as a sentence ends: whole, or cut at a word before ``limit``
    characters with "…"."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    if whole or len(text) <= limit:
        return text if text[-1] in ".?!…" else text + "."
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(",;:.") + "…"


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt (1-based)."""
    if attempts < 1:
        raise ValueError("attempts start at 1")
    return min(BASE_DELAY * (2 ** min(attempts - 1, 30)), MAX_DELAY)


def gives_up(attempts: int, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """True when the message has been tried ``max_attempts`` times: no more tries."""
    return attempts >= max_attempts


def source_key(event_type: str, partition: str, seq: int, channel: str) -> str:
    """The idempotency key of what one event causes on one channel (an event is identified by partition and seq)."""
    return f"{event_type}:{partition}:{seq}:{channel}"[:160]


# GovStack Messaging's status names (``requestStatus``) for the outbox's: a message waiting for its first attempt is
# scheduled, one taken by a worker is processing, a failed one waiting for its retry is deferred, one the provider
# reported undeliverable bounced, one given up (or refused at once) was not sent, one the mail server accepted is
# delivered (as far as egov can know).
GOVSTACK_STATUSES = ("scheduled", "processing", "deferred", "bounced", "notSent", "delivered")
_GOVSTACK_OF = {"pending": "scheduled", "processing": "processing", "failed": "deferred", "bounced": "bounced",
                "gave_up": "notSent", "rejected": "notSent", "sent": "delivered"}


def govstack_status(counts: dict[str, int]) -> dict[str, int]:
    """Outbox counts (``services.request_counts``) → the six counts of GovStack's ``requestStatus``."""
    result = dict.fromkeys(GOVSTACK_STATUSES, 0)
    for status, count in counts.items():
        result[_GOVSTACK_OF[status]] += count
    return result
