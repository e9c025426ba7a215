"""Payment actions: the only code that changes payment rows. Each action runs in one transaction and writes its ledger
event there.

The flow:

1. ``open_request``: the dossier enters 6 (``dossiers.services.request_fees``): a request with the version's fee lines.
2. The applicant pays by VietQR (``choose_vietqr``: the QR's transfer content carries the dossier code) or through
   the gateway (``start_gateway_payment``: a payment at the provider, the payer sent to its page).
3. The provider calls back (``receive_callback``, the hot path): the signature is checked in constant time and the
   notification stored under its unique transaction id, one INSERT (a repeat answers 200 and changes nothing). A
   forged one is refused (401), kept as evidence and logged.
4. ``egov payments work`` (a claimed-row loop: the unapplied notifications are its queue) applies it
   (``apply_notification``): the state machine in ``rules.decide`` says what it does; a matching payment credits
   the dossier (6 → 4) in the same transaction that marks the notification applied, so a worker killed half-way
   leaves nothing done and the row still queued, and a second run finds it applied.
5. A dossier stopped after payment is refunded (``on_dossier_stopped``; the loop's ``send_due_refunds``), and so is
   every other payment the platform received and cannot keep (``rules.decide``: a double payment, a wrong amount on
   an open request; ``rules.decide_unmatched``: a credit that matches no request), one refund per received
   transaction; the provider's "refunded" callback completes each. A dossier back at 6 because its withdrawal was refused is
   credited if its fees were paid meanwhile (``on_withdrawal_refused``).
6. ``reconcile(day)``: the provider's transactions against ours; what we missed is pulled and applied; every
   mismatch is listed in a ``ReconciliationReport``.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from egov.kernel import ledger
from egov.kernel.calendar_rules import VN_TZ
from egov.payments import rules
from egov.payments.models import PaymentNotification, PaymentRequest, ReconciliationReport, Refund

logger = logging.getLogger("egov.payments")
ACTOR = "payments"
FORGED_BODY_KEPT = 4096


class NotAllowed(PermissionDenied):
    """Not this person's payment (HTTP 403/404)."""


class PaymentRefused(Exception):
    """An action the payment's state does not allow now (HTTP 409), with a reason the applicant understands."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _reference(prefix: str) -> str:
    # Short, unambiguous (no 0/O, 1/I), typed by nobody: the provider carries it back.
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(12))


def _event(name: str, request: PaymentRequest, payload: dict | None = None) -> None:
    ledger.append(f"payment.{name}", partition=request.unit_code, actor=ACTOR, subject=request,
                  payload={"reference": request.reference, "code": request.dossier_code, "status": request.status,
                           **(payload or {})})


# --- Requests --------------------------------------------------------------------------------------------------------

def open_request(dossier, *, at: dt.datetime) -> PaymentRequest | None:
    """The dossier entered 6: its payment request, with the fee lines of its procedure version for the dossier's
    e-form answers (a fee may count copies or pages: ``rules.fee_line``), in the caller's transaction. A version
    without fees asks nothing (the desk records the move back)."""
    fees = dossier.procedure_version.fees
    counted = rules.counted_fields(fees)
    # Only the counts the fees depend on are taken from the sealed answers (none for fixed fees).
    form = (dossier.content().get("form") or {}) if counted else {}
    lines = rules.fee_lines(fees, {name: form.get(name) for name in counted})
    if not lines:
        return None
    existing = PaymentRequest.objects.filter(dossier=dossier, status=PaymentRequest.Status.PENDING).first()
    if existing is not None:
        return existing
    agency = dossier.receiving_agency
    request = PaymentRequest.objects.create(
        reference=_reference("PR"), dossier=dossier, dossier_code=dossier.code, unit_code=agency.code,
        unit_name=agency.name, lines=lines, amount=rules.total(lines), created_at=at)
    _event("requested", request, {"amount": request.amount})
    return request


def close_requests(dossier, *, at: dt.datetime, reason: str) -> None:
    """The fees were settled otherwise (cash at the desk): open requests are cancelled; a later online payment of
    one of them is flagged as a double payment, to refund."""
    for request in PaymentRequest.objects.select_for_update().filter(dossier=dossier,
                                                                     status=PaymentRequest.Status.PENDING):
        request.status, request.closed_note = PaymentRequest.Status.CANCELLED, reason[:200]
        request.save(update_fields=["status", "closed_note"])
        _event("cancelled", request, {"reason": reason[:100]})


def on_dossier_stopped(dossier, *, at: dt.datetime) -> None:
    """Processing stopped (8): open requests are cancelled; paid ones are refunded through their provider."""
    close_requests(dossier, at=at, reason="processing stopped")
    for request in PaymentRequest.objects.select_for_update().filter(dossier=dossier,
                                                                     status=PaymentRequest.Status.PAID):
        _start_refund(request, provider=_paying_provider(request), transaction_id=request.paid_transaction,
                      amount=request.amount, at=at, reason="processing stopped")


def on_withdrawal_refused(dossier, *, at: dt.datetime) -> None:
    """The agency refused the withdrawal and the dossier is back at 6 (in the caller's transaction, the dossier
    locked and saved). A payment applied while the withdrawal was pending paid the request but could not move the
    dossier, which was at 7 (``apply_notification``'s "not moved"): it is credited now, 6 → 4, as it would have been
    then, or the dossier would wait for fees already paid. A paid request that already moved the dossier (an earlier
    round of fees) is never credited again: its reference is on that 6 → 4 move."""
    from egov.dossiers import services as dossiers
    from egov.dossiers.models import Status, Transition

    credited = set(Transition.objects.filter(dossier=dossier, from_status=Status.FEES_DUE, to_status=Status.PROCESSING,
                                             details__payment__isnull=False).values_list("details__payment", flat=True))
    for request in (PaymentRequest.objects.select_for_update().filter(dossier=dossier, status=PaymentRequest.Status.PAID)
                    .order_by("paid_at", "id")):
        if request.reference not in credited:
            dossiers.credit_payment(dossier.pk, reference=request.reference, at=at, paid_at=request.paid_at)
            _event("credited_after_withdrawal_refused", request)
            return


def _paying_provider(request: PaymentRequest) -> str:
    """The provider whose notification paid the request (the refund goes back through it)."""
    paying = (PaymentNotification.objects.filter(request=request, transaction_id=request.paid_transaction,
                                                 signature_ok=True).values_list("provider", flat=True).first())
    return paying or ("bank" if request.method == PaymentRequest.Method.VIETQR else "gateway")


def _refund_event(name: str, refund: Refund, payload: dict | None = None) -> None:
    """A refund's ledger event: under its request's unit, or, for money that matched no request (so no unit is
    known), under the platform's partition with the refund as its subject."""
    if refund.request is not None:
        _event(name, refund.request, {"refund": refund.reference, **(payload or {})})
    else:
        ledger.append(f"payment.{name}", partition="platform", actor=ACTOR, subject=refund,
                      payload={"refund": refund.reference, "provider": refund.provider,
                               "transaction": refund.transaction_id, **(payload or {})})


def _start_refund(request: PaymentRequest | None, *, provider: str, transaction_id: str, amount: int, at: dt.datetime,
                  reason: str) -> Refund:
    """The refund of one received transaction (``request`` None: a credit that matched no request); asked again (the
    same late callback pulled twice, a reordered one), the same row (the table's constraint: one refund per
    transaction)."""
    refund, created = Refund.objects.get_or_create(
        provider=provider, transaction_id=transaction_id,
        defaults={"request": request, "reference": _reference("RF"), "amount": amount, "reason": reason[:200],
                  "created_at": at})
    if created:
        _refund_event("refund_requested", refund, {"amount": refund.amount, "transaction": transaction_id})
    # Sent by ``egov payments work`` (``send_due_refunds``): the provider is called over the network, never inside
    # the dossier's transaction.
    return refund


def send_refund(refund_id: int, *, gateway=None) -> str:
    """Ask the provider to refund (idempotent on the refund's reference: a repeat refunds once). The provider's
    "refunded" callback completes it. A failure is kept and retried (``requeue_pending``)."""
    from egov.payments.gateways import GatewayError
    from egov.payments.gateways import gateway as default_gateway

    refund = Refund.objects.select_related("request").get(pk=refund_id)
    if refund.status in (Refund.Status.SENT, Refund.Status.COMPLETED):
        return refund.status
    try:
        provider_reference = (gateway or default_gateway()).refund(
            transaction_id=refund.transaction_id, amount=refund.amount, reference=refund.reference)
    except GatewayError as exc:
        wait = dt.timedelta(seconds=min(3600, 5 * 2 ** refund.attempts))
        Refund.objects.filter(pk=refund.pk, status__in=[Refund.Status.REQUESTED, Refund.Status.FAILED]).update(
            status=Refund.Status.FAILED, attempts=refund.attempts + 1, last_error=str(exc)[:300],
            next_attempt_at=timezone.now() + wait)
        logger.warning("refund %s not sent: %s", refund.reference, exc)
        return Refund.Status.FAILED
    with transaction.atomic():
        # Only from requested/failed: the provider's callback may have completed it already.
        Refund.objects.filter(pk=refund.pk, status__in=[Refund.Status.REQUESTED, Refund.Status.FAILED]).update(
            status=Refund.Status.SENT, attempts=refund.attempts + 1, provider_reference=provider_reference[:64],
            last_error="")
        _refund_event("refund_sent", refund)
    return Refund.Status.SENT


# --- The applicant pays ----------------------------------------------------------------------------------------------

def _pending_for(dossier, user) -> PaymentRequest:
    if not getattr(user, "is_authenticated", False) or dossier.applicant_id != user.pk:
        raise NotAllowed(_("Only the applicant pays the fees of this dossier."))
    request = PaymentRequest.objects.filter(dossier=dossier, status=PaymentRequest.Status.PENDING).first()
    if request is None:
        raise PaymentRefused(_("This dossier has no fees waiting to be paid."))
    return request


@transaction.atomic
def choose_vietqr(dossier, *, user) -> PaymentRequest:
    """Pay by bank transfer: the page shows the VietQR code; the bank's credit with the dossier code confirms it."""
    request = _pending_for(dossier, user)
    PaymentRequest.objects.filter(pk=request.pk).update(method=PaymentRequest.Method.VIETQR)
    request.method = PaymentRequest.Method.VIETQR
    _event("method_chosen", request, {"method": request.method})
    return request


def start_gateway_payment(dossier, *, user, return_url: str, gateway=None) -> str:
    """Pay through the gateway: create the payment there (outside any transaction: a network call) and answer the
    address of its pay page."""
    from egov.payments.gateways import GatewayError
    from egov.payments.gateways import gateway as default_gateway

    request = _pending_for(dossier, user)
    try:
        created = (gateway or default_gateway()).create_payment(
            reference=request.reference, amount=request.amount, return_url=return_url,
            description=f"Phí, lệ phí hồ sơ {request.dossier_code}")
    except GatewayError as exc:
        logger.warning("gateway payment for %s not created: %s", request.reference, exc)
        raise PaymentRefused(_("The payment gateway cannot be reached just now. Try again in a few minutes, or pay "
                               "by VietQR bank transfer.")) from None
    with transaction.atomic():
        PaymentRequest.objects.filter(pk=request.pk, status=PaymentRequest.Status.PENDING).update(
            method=PaymentRequest.Method.GATEWAY, provider_reference=created.provider_reference[:64])
        request.method = PaymentRequest.Method.GATEWAY
        _event("method_chosen", request, {"method": request.method})
    return created.redirect_url


# --- Callbacks (the hot path) ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallbackAnswer:
    status: int
    title: str
    detail: str = ""
    duplicate: bool = False


def _insert_sql() -> str:
    table = connection.ops.quote_name(PaymentNotification._meta.db_table)
    return (f"INSERT INTO {table} (provider, transaction_id, kind, amount, raw_body, signature_ok, received_at, "
            "outcome, note) VALUES (%s, %s, %s, %s, %s, %s, %s, '', '') "
            "ON CONFLICT (provider, transaction_id) DO NOTHING RETURNING id")


MIN_STORED_AMOUNT, MAX_STORED_AMOUNT = -(2**63), 2**63 - 1  # PaymentNotification.amount is a BigIntegerField


def receive_callback(provider: str, body: bytes, *, timestamp: str | None, signature: str | None) -> CallbackAnswer:
    """A provider's notification: verify, store once, queue its application. Never raises for bad input."""
    secret = settings.PAYMENT_SECRETS.get(provider)
    if secret is None:
        return CallbackAnswer(404, "Unknown provider", f"No payment provider is called {provider[:30]!r}.")
    if len(body) > rules.MAX_BODY_BYTES:
        return CallbackAnswer(413, "Body too large", f"A notification is at most {rules.MAX_BODY_BYTES} bytes.")
    problem = rules.signature_problem(secret, timestamp, signature, body, now=time.time(),
                                      window_seconds=settings.PAYMENT_CALLBACK_WINDOW_SECONDS)
    if problem is not None:
        _refuse_forged(provider, body, problem)
        return CallbackAnswer(401, "Signature refused", "The notification's signature or timestamp is not valid.")
    try:
        data = json.loads(body)
        transaction_id = str(data["transaction_id"])[:64]
        kind = str(data["kind"])
        amount = data["amount"]
        if kind not in rules.KINDS or not transaction_id or isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError
        if not MIN_STORED_AMOUNT <= amount <= MAX_STORED_AMOUNT:
            raise ValueError  # beyond the BigInteger column: the insert below would fail with a 500
    # RecursionError: JSON nested deeper than the parser (or str() of a nested value) recurses.
    except (ValueError, KeyError, TypeError, RecursionError):
        logger.warning("payment callback from %s: signed but malformed", provider)
        return CallbackAnswer(400, "Malformed notification",
                              "Send JSON with transaction_id, kind (paid, failed, pending, refunded) and a whole amount.")
    received_at = PaymentNotification._meta.get_field("received_at").get_db_prep_value(timezone.now(), connection)
    # One statement, its own transaction: the stored row is the work queue (``egov payments work`` applies it).
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), [provider, transaction_id, kind, amount, body.decode("utf-8", "replace"), True,
                                       received_at])
        row = cursor.fetchone()
    if row is None:
        return CallbackAnswer(200, "Already received", duplicate=True)
    return CallbackAnswer(200, "Accepted")


def _refuse_forged(provider: str, body: bytes, problem: str) -> None:
    """Keep the forged body (cut) as evidence, without its transaction id (a forger must not take a real one
    first), and log it as a security event."""
    now = timezone.now()
    with transaction.atomic():
        notification = PaymentNotification.objects.create(
            provider=provider, transaction_id=None, raw_body=body[:FORGED_BODY_KEPT].decode("utf-8", "replace"),
            signature_ok=False, received_at=now, applied_at=now, outcome=PaymentNotification.Outcome.FORGED,
            note=problem[:300])
        ledger.append("payment.callback_forged", partition="platform", actor=ACTOR, subject=notification,
                      payload={"provider": provider, "reason": problem})
    logger.warning("payment callback from %s refused: %s", provider, problem)


# --- Applying notifications (the worker) -----------------------------------------------------------------------------

def _find_request(notification: PaymentNotification, data: dict) -> PaymentRequest | None:
    refund_reference = data.get("refund_reference")
    if notification.kind == rules.KIND_REFUNDED and refund_reference:
        refund = Refund.objects.filter(reference=str(refund_reference)).select_related("request").first()
        return refund.request if refund else None
    if notification.provider == "bank":
        code = rules.dossier_code_in(str(data.get("content", "")))
        if code is None:
            return None
        candidates = PaymentRequest.objects.filter(dossier_code=code)
        # The open request if there is one, else the latest (a second transfer is then a double payment).
        return (candidates.filter(status=PaymentRequest.Status.PENDING).first()
                or candidates.order_by("-created_at", "-id").first())
    reference = data.get("reference")
    return PaymentRequest.objects.filter(reference=str(reference)).first() if reference else None


_EXTRA_REASONS = {
    PaymentRequest.Status.PAID: "paid twice: the request was already paid",
    PaymentRequest.Status.CANCELLED: "paid after the request was closed",
    PaymentRequest.Status.REFUNDED: "paid after the fees were refunded",
}


def _refund_reason(request: PaymentRequest, amount: int) -> str:
    """Why a payment the request cannot take goes back (kept on the refund, for the officer and the reconciliation)."""
    if request.status == PaymentRequest.Status.PENDING:  # still open: the payment was of the wrong amount
        return f"wrong amount: {amount} VND paid, {request.amount} VND due; the request stays open"
    return _EXTRA_REASONS[request.status] + (f" ({request.closed_note})" if request.closed_note else "")


def _complete_refund(refund: Refund, notification: PaymentNotification, now: dt.datetime) -> None:
    refund.status, refund.completed_at = Refund.Status.COMPLETED, now
    refund.provider_reference = refund.provider_reference or notification.transaction_id
    refund.save(update_fields=["status", "completed_at", "provider_reference"])


def _apply_unmatched(notification: PaymentNotification, data: dict, now: dt.datetime) -> str:
    """A notification that names no payment request: a credit is sent back to its payer (the provider and the
    transaction are known, the notification being verified), and the provider's confirmation of that refund
    completes it. The credit's outcome stays flagged, so the reconciliation keeps listing it."""
    refund = (Refund.objects.select_for_update().filter(request__isnull=True,
                                                        reference=str(data.get("refund_reference") or "")).first()
              if notification.kind == rules.KIND_REFUNDED else None)
    decision = rules.decide_unmatched(notification.kind,
                                      refund_requested=refund is not None and refund.status != Refund.Status.COMPLETED)
    if decision.refund and (notification.amount or 0) > 0:
        _start_refund(None, provider=notification.provider, transaction_id=notification.transaction_id,
                      amount=notification.amount, at=now, reason="no payment request matches this payment")
    if decision.complete_refund:
        _complete_refund(refund, notification, now)
        _refund_event("refund_confirmed", refund, {"amount": notification.amount,
                                                   "confirmation": notification.transaction_id})
    return decision.outcome


def apply_notification(notification_id: int) -> str | None:
    """Apply one stored notification, exactly once: the notification row is locked, and marking it applied commits
    with whatever it changed. Returns its outcome, or None when there was nothing to do (applied already)."""
    from egov.dossiers import services as dossiers
    from egov.dossiers.models import Dossier, Status

    with transaction.atomic():
        # skip_locked: several workers share the queue; a row another worker holds is theirs to finish.
        notification = (PaymentNotification.objects.select_for_update(skip_locked=True)
                        .filter(pk=notification_id, applied_at__isnull=True, signature_ok=True).first())
        if notification is None:
            return None
        now = timezone.now()
        data = json.loads(notification.raw_body)
        request = _find_request(notification, data)
        note = ""
        if request is None:
            outcome = _apply_unmatched(notification, data, now)
        else:
            # Lock order dossier → request, as in dossiers.services.stop (no deadlock between them).
            dossier = Dossier.objects.select_for_update().get(pk=request.dossier_id)
            request = PaymentRequest.objects.select_for_update().get(pk=request.pk)
            # The refund this notification confirms: the one its refund reference names (a request may have
            # several: its payment's, and one per double payment).
            refund = (Refund.objects.select_for_update().filter(
                request=request, reference=str(data.get("refund_reference") or "")).first()
                if notification.kind == rules.KIND_REFUNDED else None)
            refund_requested = refund is not None and refund.status != Refund.Status.COMPLETED
            decision = rules.decide(request.status, notification.kind,
                                    amount_matches=notification.amount == request.amount,
                                    same_transaction_as_paid=notification.transaction_id == request.paid_transaction,
                                    refund_requested=refund_requested,
                                    refund_of_extra=refund is not None
                                    and refund.transaction_id != request.paid_transaction)
            outcome = decision.outcome
            if decision.credit:
                request.paid_at, request.paid_transaction = now, notification.transaction_id
                request.method = PaymentRequest.Method.VIETQR if notification.provider == "bank" \
                    else PaymentRequest.Method.GATEWAY
                if dossier.status == Status.FEES_DUE:
                    dossiers.credit_payment(dossier.pk, reference=request.reference, at=now)
                else:
                    note = f"paid while the dossier is in status {dossier.status}: not moved"
            if decision.refund and (notification.amount or 0) > 0:
                # Money the request cannot take (a double payment, a wrong amount): it goes back to the payer in
                # full, through the worker's ``send_due_refunds`` (never a network call here, inside the transaction).
                _start_refund(request, provider=notification.provider, transaction_id=notification.transaction_id,
                              amount=notification.amount, at=now, reason=_refund_reason(request, notification.amount))
            if decision.complete_refund:
                _complete_refund(refund, notification, now)
            request.status = decision.status
            request.save()
            notification.request = request
            if outcome in (rules.CREDITED, rules.REFUND_CONFIRMED) or outcome in rules.FLAGGED:
                # A confirmed refund names its refund: a request may have several (the applicant is told which).
                _event(outcome, request, {"provider": notification.provider, "amount": notification.amount,
                                          "transaction": notification.transaction_id,
                                          **({"refund": refund.reference} if decision.complete_refund else {})})
        if outcome in rules.FLAGGED:
            logger.warning("payment notification %s/%s flagged: %s", notification.provider,
                           notification.transaction_id, outcome)
        if settings.PAYMENT_APPLY_DELAY_SECONDS:  # crash tests: a worker killed with its work written, not committed
            logger.warning("test delay: holding notification %s for %s s", notification.pk,
                           settings.PAYMENT_APPLY_DELAY_SECONDS)
            time.sleep(settings.PAYMENT_APPLY_DELAY_SECONDS)
        notification.applied_at, notification.outcome, notification.note = now, outcome, note
        notification.save(update_fields=["applied_at", "outcome", "note", "request"])
        return outcome


def apply_pending(limit: int | None = None) -> int:
    """Apply every verified notification not applied yet (the worker's recovery pass); returns how many."""
    applied = 0
    while limit is None or applied < limit:
        ids = list(PaymentNotification.objects.filter(applied_at__isnull=True, signature_ok=True)
                   .order_by("id").values_list("id", flat=True)[:200])
        if not ids:
            break
        for notification_id in ids:
            if apply_notification(notification_id) is not None:
                applied += 1
        if len(ids) < 200:
            break
    return applied


def send_due_refunds(*, gateway=None) -> int:
    """Send every refund not sent yet; a failed one again after a back-off that doubles with each attempt (at most
    an hour)."""
    now = timezone.now()
    sent = 0
    for refund in Refund.objects.filter(status__in=[Refund.Status.REQUESTED, Refund.Status.FAILED]).order_by("id"):
        if refund.status == Refund.Status.FAILED and refund.next_attempt_at and refund.next_attempt_at > now:
            continue
        sent += send_refund(refund.pk, gateway=gateway) == Refund.Status.SENT
    return sent


def work_once() -> tuple[int, int]:
    """One pass of ``egov payments work``: apply what providers told us, send due refunds."""
    return apply_pending(), send_due_refunds()


# --- Reconciliation --------------------------------------------------------------------------------------------------

def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=VN_TZ)
    return start, start + dt.timedelta(days=1)


def _ingest(provider: str, transaction_id: str, kind: str, amount: int, body: str) -> int | None:
    """A transaction the provider reports and we never received (its callback lost): stored as if it had arrived.
    Trusted without a callback signature: it came from the provider's own API, on a call we signed and made."""
    received_at = PaymentNotification._meta.get_field("received_at").get_db_prep_value(timezone.now(), connection)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_insert_sql(), [provider, transaction_id[:64], kind, amount, body, True, received_at])
        row = cursor.fetchone()
    return row[0] if row else None


def _occurred_day(notification: PaymentNotification) -> dt.date | None:
    """The day (Vietnam's calendar) the provider dates the notification's transaction (``occurred_at`` in its signed
    body), or None when the body does not say."""
    try:
        occurred = dt.datetime.fromisoformat(str(json.loads(notification.raw_body)["occurred_at"]))
    except (ValueError, KeyError, TypeError):
        return None
    return occurred.astimezone(VN_TZ).date() if occurred.tzinfo is not None else None


def reconcile(day: dt.date, *, gateway=None) -> ReconciliationReport:
    """Đối soát: compare the provider's transactions of ``day`` (Vietnam's calendar) with ours. What we missed is
    pulled and applied (and still listed); every mismatch is stored in the day's report."""
    from egov.dossiers.models import Transition
    from egov.payments.gateways import gateway as default_gateway

    kinds = ReconciliationReport.Mismatch  # the codes stored; their labels are what the page shows
    apply_pending()
    theirs = (gateway or default_gateway()).transactions(day)
    mismatches: list[dict] = []
    recovered = 0
    start, end = _day_bounds(day)
    keys = {(t.provider, t.transaction_id) for t in theirs}
    ours = {(n.provider, n.transaction_id): n for n in PaymentNotification.objects.filter(
        signature_ok=True, transaction_id__in=[t.transaction_id for t in theirs]).select_related("request")}
    for t in theirs:
        notification = ours.get((t.provider, t.transaction_id))
        if notification is None:
            notification_id = _ingest(t.provider, t.transaction_id, t.kind, t.amount, t.body)
            if notification_id is not None:
                apply_notification(notification_id)
                recovered += 1
            notification = PaymentNotification.objects.filter(provider=t.provider,
                                                              transaction_id=t.transaction_id).first()
            mismatches.append({"kind": kinds.MISSING_ON_PLATFORM.value, "provider": t.provider, "transaction": t.transaction_id,
                               "provider_amount": t.amount, "platform_amount": None, "recovered": True,
                               "reference": notification.request.reference if notification and notification.request
                               else ""})
        else:
            # Each difference listed on its own: an amount that differs must not hide a status that differs too.
            for kind, differs in ((kinds.AMOUNT_DIFFERS.value, notification.amount != t.amount),
                                  (kinds.KIND_DIFFERS.value, notification.kind != t.kind)):
                if differs:
                    mismatches.append({"kind": kind, "provider": t.provider, "transaction": t.transaction_id,
                                       "provider_amount": t.amount, "platform_amount": notification.amount,
                                       "provider_kind": t.kind, "platform_kind": notification.kind,
                                       "reference": notification.request.reference if notification.request else ""})
        if notification is not None and notification.outcome in rules.FLAGGED:
            mismatches.append({"kind": notification.outcome, "provider": t.provider, "transaction": t.transaction_id,
                               "provider_amount": t.amount, "platform_amount": notification.amount,
                               "reference": notification.request.reference if notification.request else ""})
    day_ours = PaymentNotification.objects.filter(signature_ok=True, received_at__gte=start, received_at__lt=end)
    unknown = [n for n in day_ours.exclude(kind=rules.KIND_PENDING).select_related("request")
               if (n.provider, n.transaction_id) not in keys]
    # A notification received today may be of a transaction the provider dates another day: a callback that crossed
    # midnight, or one pulled by an earlier reconciliation of that day. It is looked for in that day's list too,
    # so only what the provider has on neither day is flagged.
    for other_day in sorted({d for d in map(_occurred_day, unknown) if d is not None and d != day}):
        keys |= {(t.provider, t.transaction_id) for t in (gateway or default_gateway()).transactions(other_day)}
    for notification in unknown:
        if (notification.provider, notification.transaction_id) not in keys:
            mismatches.append({"kind": kinds.MISSING_AT_PROVIDER.value, "provider": notification.provider,
                               "transaction": notification.transaction_id, "provider_amount": None,
                               "platform_amount": notification.amount,
                               "reference": notification.request.reference if notification.request else ""})
    # Double credit: a request credited by two notifications, or a dossier moved 6 → 4 twice for one payment.
    credited = (PaymentNotification.objects.filter(outcome=rules.CREDITED, request__isnull=False)
                .values("request__reference").annotate(n=Count("id")).filter(n__gt=1))
    for row in credited:
        mismatches.append({"kind": kinds.DOUBLE_CREDIT.value, "reference": row["request__reference"], "count": row["n"]})
    moves = (Transition.objects.filter(from_status=6, to_status=4, details__payment__isnull=False, at__gte=start,
                                       at__lt=end).values("details__payment").annotate(n=Count("id")).filter(n__gt=1))
    for row in moves:
        mismatches.append({"kind": kinds.DOUBLE_CREDIT.value, "reference": row["details__payment"], "count": row["n"]})
    with transaction.atomic():
        report, _created = ReconciliationReport.objects.update_or_create(
            day=day, defaults={"created_at": timezone.now(), "provider_count": len(theirs),
                               "platform_count": day_ours.count(), "recovered": recovered,
                               "mismatches": mismatches})
        ledger.append("payment.reconciled", partition="platform", actor=ACTOR, subject=report,
                      payload={"day": day.isoformat(), "mismatches": len(mismatches), "recovered": recovered})
    return report


# --- Receipt ---------------------------------------------------------------------------------------------------------

def receipt_pdf(request: PaymentRequest, *, reader) -> bytes:
    """Biên lai điện tử: once paid. The read is logged (the receipt names the payer)."""
    from egov.dossiers import services as dossiers
    from egov.payments import receipt

    if request.status not in (PaymentRequest.Status.PAID, PaymentRequest.Status.REFUNDED):
        raise PaymentRefused(_("The receipt is issued once the fees are paid."))
    content = receipt.render(request)
    dossiers.log_read(request.dossier, reader=reader, purpose="payment receipt")
    return content
