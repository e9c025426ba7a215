"""Pure rules of the service statistics (no I/O): the month an instant falls in, what a dossier counts for in
which month, and the percentages shown.

DOMAIN.md "Statistics": per agency, procedure, channel and period, received (new, carried over), processed (early,
on time, late), pending (within deadline, overdue), returned, withdrawn, refused, online share, satisfaction; and the
digitisation indicator of the service index: the share of received dossiers filed reusing digitised documents from the
applicant's data store (DOMAIN.md, Decision 766: full marks at 80 % or more).
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from egov.dossiers import rules as dossier_rules
from egov.kernel.calendar_rules import to_vn

PROCESSED_OUTCOMES = (dossier_rules.EARLY, dossier_rules.ON_TIME, dossier_rules.LATE)


def month_of(instant: dt.datetime) -> dt.date:
    """The first day of the month the instant falls in, in Vietnam's time zone."""
    return to_vn(instant).date().replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def processed_verdict(finished_at: dt.datetime, appointment_at: dt.datetime, supplement_count: int) -> str:
    """Trước hạn / đúng hạn / quá hạn of a processed dossier: its end against its appointment (the one-stop rule);
    more than one supplement request makes it late whatever the dates (DOMAIN.md, service index)."""
    if supplement_count > 1:
        return dossier_rules.LATE
    return dossier_rules.verdict(finished_at, appointment_at)


@dataclass(frozen=True)
class Fact:
    """What the statistics know of one dossier (mirrors models.DossierFact, without the database)."""
    agency_id: int
    procedure_id: int
    channel: int
    received_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    overdue_from: dt.datetime | None = None
    outcome: str = ""
    rating_score: int | None = None
    rated_at: dt.datetime | None = None
    reused: bool = False
    digitised: bool = False         # every required component held electronically when received
    result_digitised: bool = False  # the result issued electronically (a signed file)


def contributions(fact: Fact | None) -> Counter:
    """What one dossier adds to the monthly counters: ``{(agency, procedure, channel, month, counter): n}``.

    * received +1 in the month of reception (refused dossiers were never received);
    * in the month it ends, a received dossier is closed +1 and counts in its outcome (early / on time / late /
      withdrawn / stopped); a dossier refused or withdrawn before reception counts only in its outcome;
    * overdue: a received dossier is overdue at the end of every month from the month of its appointment instant
      up to (not including) the month it ends: +1 opened in the first, +1 closed in the month it ends;
    * delivered +1 in the month of delivery; a rating +1 (and its score) in the month it was given;
    * reused +1 in the month of reception for a received dossier filed with a document from the data store;
    * digitised +1 in the month of reception for a received dossier whose required components are all held
      electronically (uploaded, scanned at the desk, reused from the data store, or the e-form's declaration);
      results_digitised +1 in the month it ends for a processed dossier whose result was issued electronically
      (Decision 766: digitised dossiers, input and result).
    """
    counts: Counter = Counter()
    if fact is None:
        return counts
    key = (fact.agency_id, fact.procedure_id, fact.channel)
    ended = month_of(fact.finished_at) if fact.finished_at and fact.outcome else None
    if fact.received_at is not None:
        counts[(*key, month_of(fact.received_at), "received")] += 1
        if fact.reused:
            counts[(*key, month_of(fact.received_at), "reused")] += 1
        if fact.digitised:
            counts[(*key, month_of(fact.received_at), "digitised")] += 1
        if ended is not None:
            counts[(*key, ended, "closed")] += 1
        if fact.overdue_from is not None:
            overdue = month_of(fact.overdue_from)
            if ended is None:
                counts[(*key, overdue, "overdue_opened")] += 1
            elif overdue < ended and fact.overdue_from < fact.finished_at:
                counts[(*key, overdue, "overdue_opened")] += 1
                counts[(*key, ended, "overdue_closed")] += 1
    if ended is not None:
        counts[(*key, ended, fact.outcome)] += 1
        if fact.result_digitised and fact.outcome in PROCESSED_OUTCOMES:
            counts[(*key, ended, "results_digitised")] += 1
    if fact.delivered_at is not None:
        counts[(*key, month_of(fact.delivered_at), "delivered")] += 1
    if fact.rating_score is not None and fact.rated_at is not None:
        counts[(*key, month_of(fact.rated_at), "ratings")] += 1
        counts[(*key, month_of(fact.rated_at), "rating_sum")] += fact.rating_score
    return counts


def difference(old: Fact | None, new: Fact | None) -> dict:
    """The counter changes that turn ``old``'s contributions into ``new``'s (empty when they are the same)."""
    changes = Counter(contributions(new))
    changes.subtract(contributions(old))
    return {key: n for key, n in changes.items() if n}


def percent(part: int, whole: int) -> float | None:
    """A share in percent with one decimal, or None when there is nothing to share."""
    if not whole:
        return None
    return round(100.0 * part / whole, 1)
