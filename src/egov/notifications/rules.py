"""Pure rules of notifications (no I/O): which events tell the applicant something, and when a failed message is
tried again.

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

# Dossier events that concern the applicant (each has a template per language under templates/notifications/events/).
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
