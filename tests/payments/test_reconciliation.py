"""The daily reconciliation against the sandbox provider (its own HTTP server on loopback, in this process): every
kind of mismatch is flagged (the provider's amount or status differs from what the platform received, the platform
credited a payment the provider never made), and a payment pulled by an earlier day's reconciliation, or a callback
that crossed midnight, is not flagged again on the day it arrived."""
import datetime as dt
import json
import sqlite3

import pytest

from egov.dossiers.models import Dossier, Status
from egov.kernel.calendar_rules import VN_TZ
from egov.payments import services
from egov.payments.models import PaymentNotification, PaymentRequest, Refund
from tests.payments.conftest import dossier_waiting_for_fees, signed

pytestmark = pytest.mark.django_db


def receive(provider_name, payload):
    """What the platform received (a signed callback), applied by the payments worker's pass."""
    body, headers = signed(provider_name, payload)
    answer = services.receive_callback(provider_name, body, timestamp=headers["X-Egov-Timestamp"],
                                       signature=headers["X-Egov-Signature"])
    assert answer.status == 200
    services.work_once()


def today():
    return dt.datetime.now(VN_TZ).date()


def mismatches(report):
    return {(m["kind"], m.get("transaction")) for m in report.mismatches}


def test_every_kind_of_mismatch_is_flagged(provider, citizen, officers, version, agency):
    short, failed, ghost = (dossier_waiting_for_fees(citizen, officers, version, agency) for _ in range(3))
    # The provider's records: 200,000 paid for ``short`` and for ``failed``.
    short_body = provider._record(provider="bank", kind="paid", amount=200000, content=f"NOP PHI HS {short.code}")
    failed_request = PaymentRequest.objects.get(dossier=failed)
    failed_body = provider._record(provider="gateway", kind="paid", amount=200000,
                                   reference=failed_request.reference)
    # What the platform received for the same transactions differs: another amount; another status.
    receive("bank", {**short_body, "amount": 150000})
    receive("gateway", {**failed_body, "kind": "failed"})
    # And the platform credited a payment the provider has no trace of.
    ghost_request = PaymentRequest.objects.get(dossier=ghost)
    receive("gateway", {"transaction_id": "GW-GHOST-PAID", "kind": "paid", "amount": 200000,
                        "reference": ghost_request.reference})
    assert Dossier.objects.get(pk=ghost.pk).status == Status.PROCESSING

    report = services.reconcile(today())
    found = mismatches(report)
    assert ("amount_differs", short_body["transaction_id"]) in found
    assert ("mismatch", short_body["transaction_id"]) in found  # 150,000 of 200,000: not credited, flagged
    assert ("kind_differs", failed_body["transaction_id"]) in found
    assert ("missing_at_provider", "GW-GHOST-PAID") in found
    ghost_row = next(m for m in report.mismatches if m["transaction"] == "GW-GHOST-PAID")
    assert ghost_row["reference"] == ghost_request.reference and ghost_row["platform_amount"] == 200000
    differs = next(m for m in report.mismatches if m["kind"] == "kind_differs")
    assert (differs["provider_kind"], differs["platform_kind"]) == ("paid", "failed")
    # The wrong amount was sent back by the worker's pass; the provider's confirmation of that refund (its callback
    # goes nowhere here) is the one transaction the reconciliation recovers, and it completes the refund.
    (refund,) = Refund.objects.filter(transaction_id=short_body["transaction_id"])
    assert report.recovered == 1 and refund.status == "completed" and refund.amount == 150000
    recovered = next(m for m in report.mismatches if m["kind"] == "missing_on_platform")
    assert recovered["reference"] == PaymentRequest.objects.get(dossier=short).reference
    # Nothing the provider and the platform agree on is listed.
    assert not {m["kind"] for m in report.mismatches} - {"amount_differs", "mismatch", "kind_differs",
                                                          "missing_at_provider", "missing_on_platform"}


def test_both_the_amount_and_the_status_differing_are_both_listed(provider, fees_due):
    request = PaymentRequest.objects.get(dossier=fees_due)
    body = provider._record(provider="gateway", kind="paid", amount=200000, reference=request.reference)
    receive("gateway", {**body, "kind": "pending", "amount": 1000})
    found = mismatches(services.reconcile(today()))
    assert {("amount_differs", body["transaction_id"]), ("kind_differs", body["transaction_id"])} <= found


def _move_to_yesterday(provider, transaction_id):
    """The provider dates the transaction yesterday (as if it had been made then)."""
    yesterday = today() - dt.timedelta(days=1)
    occurred = dt.datetime.combine(yesterday, dt.time(23, 59, 30), tzinfo=VN_TZ).astimezone(dt.UTC)
    stamp = occurred.isoformat().replace("+00:00", "Z")
    with sqlite3.connect(provider.state) as db:
        (body,) = db.execute("SELECT body FROM transactions WHERE transaction_id = ?", (transaction_id,)).fetchone()
        body = json.dumps({**json.loads(body), "occurred_at": stamp}, separators=(",", ":"), ensure_ascii=False)
        db.execute("UPDATE transactions SET occurred_at = ?, day = ?, body = ? WHERE transaction_id = ?",
                   (stamp, yesterday.isoformat(), body, transaction_id))
    return yesterday, body


def test_a_payment_pulled_by_yesterdays_reconciliation_is_not_flagged_today(provider, fees_due):
    request = PaymentRequest.objects.get(dossier=fees_due)
    lost = provider._record(provider="gateway", kind="paid", amount=200000, reference=request.reference)
    yesterday, _ = _move_to_yesterday(provider, lost["transaction_id"])
    # Yesterday's reconciliation, run today (the default: ``egov payments reconcile`` after midnight), pulls it.
    pulled = services.reconcile(yesterday)
    assert ("missing_on_platform", lost["transaction_id"]) in mismatches(pulled) and pulled.recovered == 1
    assert Dossier.objects.get(pk=fees_due.pk).status == Status.PROCESSING
    # Today the platform holds it (received today) and the provider lists it yesterday: no mismatch.
    report = services.reconcile(today())
    assert report.mismatches == [] and report.platform_count == 1


def test_a_callback_that_crossed_midnight_is_not_flagged(provider, fees_due):
    request = PaymentRequest.objects.get(dossier=fees_due)
    paid = provider._record(provider="gateway", kind="paid", amount=200000, reference=request.reference)
    _, body = _move_to_yesterday(provider, paid["transaction_id"])
    receive("gateway", json.loads(body))  # made at 23:59:30 yesterday, received after midnight
    assert PaymentNotification.objects.get(transaction_id=paid["transaction_id"]).outcome == "credited"
    assert services.reconcile(today()).mismatches == []
    # A ghost dated yesterday is still flagged: the provider has it on neither day.
    ghost = {**json.loads(body), "transaction_id": "GW-GHOST-LATE", "kind": "failed"}
    receive("gateway", ghost)
    assert mismatches(services.reconcile(today())) == {("missing_at_provider", "GW-GHOST-LATE")}
