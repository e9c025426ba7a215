"""The only code that writes the statistics: the ledger consumer ``monitoring.statistics`` and ``rebuild``.

How it stays right under at-least-once delivery: an event only says *which* dossier changed. The handler reads that
dossier's current state, turns it into a ``DossierFact`` and applies to the monthly counters the difference between
the stored fact and the new one. Handling the same event again (a replay after a crash, or the next event of the
same dossier) finds no difference and changes nothing; events handled late or out of order still leave the counters
equal to the dossiers' current state.

Run it with ``egov notify`` (its loop calls ``update()`` after the notifications' pass), ``egov statistics update``,
or the task ``monitoring.tasks.statistics_pass``; ``egov statistics rebuild`` recomputes everything from the ledger.
"""
from __future__ import annotations

from django.db import transaction
from django.db.models import F

from egov.dossiers.models import Channel, Dossier, Rating, Status, Transition
from egov.kernel import ledger
from egov.kernel.ledger_models import ConsumerOffset, Event
from egov.monitoring import rules
from egov.monitoring.models import AgencyMonthlyFigures, DossierFact, MonthlyFigures, Outcome

CONSUMER = "monitoring.statistics"
DOSSIER_SUBJECT = "dossiers.dossier"
# Events that do not change what a dossier counts for (reads of personal data are many: skip them early).
IGNORED_EVENTS = frozenset({"dossier.read", "dossier.looked_up", "dossier.lookup_limited"})

_FACT_FIELDS = ("agency_id", "procedure_id", "channel", "received_at", "finished_at", "delivered_at", "overdue_from",
                "outcome", "rating_score", "rated_at", "reused", "digitised", "result_digitised")
REUSE_EVENT = "dossier.document_reused"


def _outcome(dossier: Dossier) -> str:
    status = dossier.status
    if status == Status.REFUSED:
        return Outcome.REFUSED
    if status == Status.STOPPED:
        last = Transition.objects.filter(dossier=dossier, to_status=Status.STOPPED).order_by("-at", "-id").first()
        withdrawn = last is not None and last.from_status == Status.WITHDRAWAL_REQUESTED
        return Outcome.WITHDRAWN if withdrawn else Outcome.STOPPED
    if status in (Status.RESULT_READY, Status.DELIVERED) and dossier.finished_at and dossier.appointment_at:
        return rules.processed_verdict(dossier.finished_at, dossier.appointment_at, dossier.supplement_count)
    return Outcome.OPEN


def fact_of(dossier: Dossier) -> rules.Fact:
    """The statistics' view of a dossier as it is now."""
    outcome = _outcome(dossier)
    paused = dossier.pauses.filter(ended_at__isnull=True).exists()
    received = dossier.received_at if outcome != Outcome.REFUSED else None
    rating = Rating.objects.filter(dossier=dossier).values_list("score", "rated_at").first()
    # A document taken from the data store is recorded as a ledger event on the dossier (read through the ledger's
    # index on the subject: a few events per dossier), not read from the portal's tables.
    reused = Event.objects.filter(subject_type=DOSSIER_SUBJECT, subject_id=str(dossier.pk),
                                  event_type=REUSE_EVENT).exists()
    digitised, result_digitised = _digitised(dossier)
    return rules.Fact(
        agency_id=dossier.receiving_agency_id, procedure_id=dossier.procedure_version.procedure_id,
        channel=dossier.channel, received_at=received,
        finished_at=dossier.finished_at if outcome else None,
        delivered_at=dossier.delivered_at,
        overdue_from=dossier.appointment_at if received is not None and not paused else None,
        outcome=outcome, rating_score=rating[0] if rating else None, rated_at=rating[1] if rating else None,
        reused=reused, digitised=digitised, result_digitised=result_digitised)


def _digitised(dossier: Dossier) -> tuple[bool, bool]:
    """Số hóa hồ sơ: whether every required component is held electronically (a file of it, uploaded, scanned at the
    desk or reused from the data store; or, online, the e-form's answers standing for the declaration), and whether
    the result was issued electronically (a result file)."""
    from egov.dossiers.models import Attachment

    kinds = set(dossier.attachments.values_list("kind", "component_code"))
    filed = {code for kind, code in kinds if kind == Attachment.Kind.COMPONENT}
    declaration = dossier.declaration_from_answers(filed)
    if declaration is not None:
        filed.add(declaration["code"])
    required = {c["code"] for c in dossier.procedure_version.components or [] if c.get("required", True)}
    return required <= filed, any(kind == Attachment.Kind.RESULT for kind, _code in kinds)


def _stored(row: DossierFact | None) -> rules.Fact | None:
    if row is None:
        return None
    return rules.Fact(**{name: getattr(row, name) for name in _FACT_FIELDS})


def agency_deltas(changes: dict) -> dict[tuple, dict[str, int]]:
    """The changes of the detailed counters summed per agency and month (``AgencyMonthlyFigures``), online
    receptions apart. Pure: the bench generator writes its roll-ups with it too."""
    by_agency: dict[tuple, dict[str, int]] = {}
    for (agency_id, _procedure_id, channel, month, counter), n in changes.items():
        deltas = by_agency.setdefault((agency_id, month), {})
        deltas[counter] = deltas.get(counter, 0) + n
        if counter == "received" and channel == Channel.ONLINE:
            deltas["received_online"] = deltas.get("received_online", 0) + n
    return by_agency


def _apply(changes: dict) -> None:
    by_row: dict[tuple, dict[str, int]] = {}
    for (agency_id, procedure_id, channel, month, counter), n in changes.items():
        by_row.setdefault((agency_id, procedure_id, channel, month), {})[counter] = n
    for (agency_id, procedure_id, channel, month), deltas in sorted(by_row.items()):
        key = {"agency_id": agency_id, "procedure_id": procedure_id, "channel": channel, "month": month}
        MonthlyFigures.objects.bulk_create([MonthlyFigures(**key)], ignore_conflicts=True)
        MonthlyFigures.objects.filter(**key).update(**{name: F(name) + n for name, n in deltas.items()})
    for (agency_id, month), deltas in sorted(agency_deltas(changes).items()):
        deltas = {name: n for name, n in deltas.items() if n}
        if not deltas:
            continue
        key = {"agency_id": agency_id, "month": month}
        AgencyMonthlyFigures.objects.bulk_create([AgencyMonthlyFigures(**key)], ignore_conflicts=True)
        AgencyMonthlyFigures.objects.filter(**key).update(**{name: F(name) + n for name, n in deltas.items()})


def refresh_dossier(dossier_id: int) -> bool:
    """Bring the statistics of one dossier up to date with its current state. Returns whether anything changed.
    Idempotent; runs inside the caller's transaction (the consumer's batch)."""
    dossier = (Dossier.objects.select_related("procedure_version").filter(pk=dossier_id).first())
    row = DossierFact.objects.select_for_update().filter(dossier_id=dossier_id).first()
    old = _stored(row)
    new = fact_of(dossier) if dossier is not None else None
    if old == new:
        return False
    _apply(rules.difference(old, new))
    if new is None:
        row.delete()
        return True
    values = {name: getattr(new, name) for name in _FACT_FIELDS}
    values["is_open"] = new.received_at is not None and not new.outcome
    if row is None:
        DossierFact.objects.create(dossier_id=dossier_id, **values)
    else:
        DossierFact.objects.filter(pk=row.pk).update(**values)
    return True


def handle_event(event) -> None:
    """The consumer's handler: a dossier event refreshes that dossier's statistics; other events are skipped."""
    if event.subject_type != DOSSIER_SUBJECT or event.event_type in IGNORED_EVENTS:
        return
    if not event.event_type.startswith("dossier."):
        return
    try:
        dossier_id = int(event.subject_id)
    except (TypeError, ValueError):
        return
    refresh_dossier(dossier_id)


def update(batch_size: int = 500) -> int:
    """One pass of the consumer: every ledger event not yet seen. Returns how many events were read."""
    return ledger.consume(CONSUMER, handle_event, batch_size=batch_size)


def update_summary() -> str:
    """`egov seed --demo`: bring the statistics up to date (the demo dossiers show on /statistics/ at once); returns
    one summary line."""
    events = update()
    return f"Service statistics: {events} ledger events read; {DossierFact.objects.count()} dossiers counted."


@transaction.atomic
def reset() -> None:
    """Forget every figure and the consumer's offsets (the next ``update()`` reads the whole ledger again)."""
    MonthlyFigures.objects.all().delete()
    AgencyMonthlyFigures.objects.all().delete()
    DossierFact.objects.all().delete()
    ConsumerOffset.objects.filter(consumer=CONSUMER).delete()


def rebuild(batch_size: int = 2000) -> int:
    """``egov statistics rebuild``: recompute the roll-ups from the ledger from scratch (a new installation, or after
    a fix to these rules). Returns how many events were read. Figures are briefly empty while it runs."""
    reset()
    return update(batch_size=batch_size)
