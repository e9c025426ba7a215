"""Money a payment request can no longer take goes back, against the sandbox provider (its HTTP server on loopback):
a transfer that arrives after the dossier was stopped, or a second transfer for fees already paid, is refunded once
through the worker's pass, whatever the order its callback and the reconciliation bring it in, and the provider's
refund callback completes it; the payment that settled the request stays credited, once. So is a transfer of the
wrong amount (the request stays open for the right one) and a credit that matches no request at all."""
import datetime as dt
import json
import sqlite3
import urllib.request

import pytest

from egov.dossiers import services as dossiers
from egov.dossiers.models import Dossier, Status
from egov.kernel.calendar_rules import VN_TZ
from egov.kernel.ledger_models import Event
from egov.payments import services
from egov.payments.models import PaymentNotification, PaymentRequest, Refund
from tests.payments.conftest import signed

pytestmark = pytest.mark.django_db


def bank_transfer(provider, amount: int, content: str) -> dict:
    """A transfer made at the sandbox bank over HTTP (what the payer's banking app does); answers the callback body
    the bank announces it with."""
    request = urllib.request.Request(f"{provider.base_url}/api/bank/credit", method="POST",
                                     data=json.dumps({"amount": amount, "content": content}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        transaction_id = json.loads(response.read())["transaction_id"]
    return announced(provider, transaction_id)


def announced(provider, transaction_id: str) -> dict:
    with sqlite3.connect(provider.state) as db:
        (body,) = db.execute("SELECT body FROM transactions WHERE transaction_id = ?", (transaction_id,)).fetchone()
    return json.loads(body)


def refunds_at_the_provider(provider) -> list[dict]:
    with sqlite3.connect(provider.state) as db:
        return [json.loads(body) for (body,) in db.execute("SELECT body FROM transactions WHERE kind = 'refunded'")]


def callback(provider_name: str, payload: dict):
    """The provider's signed callback received, then one pass of the payments worker (``egov payments work``)."""
    body, headers = signed(provider_name, payload)
    answer = services.receive_callback(provider_name, body, timestamp=headers["X-Egov-Timestamp"],
                                       signature=headers["X-Egov-Signature"])
    assert answer.status == 200
    services.work_once()
    return answer


def today():
    return dt.datetime.now(VN_TZ).date()


def moves_6_to_4(dossier) -> int:
    return Dossier.objects.get(pk=dossier.pk).transitions.filter(from_status=6, to_status=4).count()


def test_a_transfer_after_the_dossier_was_stopped_is_refunded_once(provider, fees_due, officers):
    dossiers.stop(fees_due.pk, officer=officers["head"], reason="Hồ sơ giả mạo")
    request = PaymentRequest.objects.get(dossier=fees_due)
    assert request.status == "cancelled"
    transfer = bank_transfer(provider, 200000, f"NOP PHI HS {fees_due.code}")

    callback("bank", transfer)  # applied, and the refund sent, in the same worker pass
    notification = PaymentNotification.objects.get(transaction_id=transfer["transaction_id"])
    assert notification.outcome == "double_payment"
    refund = Refund.objects.get(request=request)
    assert (refund.status, refund.amount, refund.provider, refund.transaction_id) == (
        "sent", 200000, "bank", transfer["transaction_id"])
    assert "closed" in refund.reason and "processing stopped" in refund.reason
    # The same late callback again: stored once, nothing more.
    assert callback("bank", transfer).duplicate
    (returned,) = refunds_at_the_provider(provider)
    assert (returned["refund_reference"], returned["original_transaction_id"], returned["amount"]) == (
        refund.reference, transfer["transaction_id"], 200000)

    # The bank confirms; its confirmation repeated changes nothing.
    callback("bank", returned)
    assert callback("bank", returned).duplicate
    refund.refresh_from_db()
    request.refresh_from_db()
    assert refund.status == "completed" and request.status == "cancelled"
    assert PaymentNotification.objects.get(transaction_id=returned["transaction_id"]).outcome == "refund_confirmed"
    # The day's reconciliation lists the double payment and pulls nothing that would refund it again.
    report = services.reconcile(today())
    assert ("double_payment", transfer["transaction_id"]) in {(m["kind"], m.get("transaction"))
                                                              for m in report.mismatches}
    assert report.recovered == 0
    services.work_once()
    assert Refund.objects.filter(request=request).count() == 1 and len(refunds_at_the_provider(provider)) == 1
    assert Dossier.objects.get(pk=fees_due.pk).status == Status.STOPPED and moves_6_to_4(fees_due) == 0


def test_a_second_transfer_for_a_paid_request_is_refunded_once_and_the_first_stays_credited(provider, fees_due,
                                                                                           officers):
    request = PaymentRequest.objects.get(dossier=fees_due)
    first = bank_transfer(provider, 200000, f"NOP PHI HS {fees_due.code}")
    callback("bank", first)
    assert Dossier.objects.get(pk=fees_due.pk).status == Status.PROCESSING
    # The payer's bank app sends it again (another amount, even): its callback is lost; the reconciliation pulls it
    # first, then the late callback arrives, twice.
    second = bank_transfer(provider, 150000, f"NOP PHI HS {fees_due.code}")
    report = services.reconcile(today())
    found = {(m["kind"], m.get("transaction")) for m in report.mismatches}
    assert {("missing_on_platform", second["transaction_id"]), ("double_payment", second["transaction_id"])} <= found
    services.work_once()  # the worker's next pass sends the refund the reconciliation's application asked for
    assert callback("bank", second).duplicate
    assert callback("bank", second).duplicate

    (refund,) = Refund.objects.filter(request=request)
    assert (refund.status, refund.amount, refund.transaction_id) == ("sent", 150000, second["transaction_id"])
    (returned,) = refunds_at_the_provider(provider)
    assert (returned["original_transaction_id"], returned["amount"]) == (second["transaction_id"], 150000)
    callback("bank", returned)
    refund.refresh_from_db()
    request.refresh_from_db()
    # Only the second transfer went back: the request stays paid by the first, the dossier credited once.
    assert refund.status == "completed"
    assert (request.status, request.paid_transaction) == ("paid", first["transaction_id"])
    assert moves_6_to_4(fees_due) == 1
    assert PaymentNotification.objects.filter(request=request, outcome="credited").count() == 1
    assert Event.objects.filter(event_type="payment.refund_requested", subject_id=str(request.pk)).count() == 1

    # The dossier is then stopped: the first payment goes back too, as a second refund of the same request.
    dossiers.stop(fees_due.pk, officer=officers["head"], reason="Không đủ điều kiện")
    services.work_once()
    stopped = Refund.objects.get(request=request, transaction_id=first["transaction_id"])
    assert (stopped.status, stopped.amount, stopped.provider) == ("sent", 200000, "bank")
    confirmation = next(t for t in refunds_at_the_provider(provider) if t["refund_reference"] == stopped.reference)
    callback("bank", confirmation)
    request.refresh_from_db()
    assert request.status == "refunded" and Refund.objects.filter(request=request, status="completed").count() == 2
    assert len(refunds_at_the_provider(provider)) == 2


def test_a_transfer_of_the_wrong_amount_is_refunded_in_full_and_the_request_stays_open(provider, fees_due, citizen,
                                                                                      client, signed_in):
    request = PaymentRequest.objects.get(dossier=fees_due)
    short = bank_transfer(provider, 150000, f"NOP PHI HS {fees_due.code}")  # 150,000 of the 200,000 due
    callback("bank", short)
    assert callback("bank", short).duplicate
    assert PaymentNotification.objects.get(transaction_id=short["transaction_id"]).outcome == "mismatch"
    (refund,) = Refund.objects.filter(request=request)
    assert (refund.status, refund.amount, refund.provider, refund.transaction_id) == (
        "sent", 150000, "bank", short["transaction_id"])
    assert "wrong amount" in refund.reason
    request.refresh_from_db()
    assert (request.status, request.paid_transaction) == ("pending", "")
    assert Dossier.objects.get(pk=fees_due.pk).status == Status.FEES_DUE and moves_6_to_4(fees_due) == 0
    # The applicant is told the money is on its way back and what to pay.
    signed_in(client, citizen)
    page = client.get(f"/payments/{fees_due.code}/").content.decode()
    assert "Your payment of 150.000 VND was not the amount due (200.000 VND) and is being returned" in page

    (returned,) = refunds_at_the_provider(provider)
    assert (returned["refund_reference"], returned["original_transaction_id"], returned["amount"]) == (
        refund.reference, short["transaction_id"], 150000)
    callback("bank", returned)
    refund.refresh_from_db()
    request.refresh_from_db()
    assert refund.status == "completed" and request.status == "pending"  # the refund did not settle anything
    assert "has been returned" in client.get(f"/payments/{fees_due.code}/").content.decode()

    # The right amount then pays, once; nothing more goes back, and the day's reconciliation lists the wrong one.
    right = bank_transfer(provider, 200000, f"NOP PHI HS {fees_due.code}")
    callback("bank", right)
    request.refresh_from_db()
    assert (request.status, request.paid_transaction) == ("paid", right["transaction_id"])
    assert Dossier.objects.get(pk=fees_due.pk).status == Status.PROCESSING and moves_6_to_4(fees_due) == 1
    report = services.reconcile(today())
    assert ("mismatch", short["transaction_id"]) in {(m["kind"], m.get("transaction")) for m in report.mismatches}
    assert report.recovered == 0
    services.work_once()
    assert Refund.objects.count() == 1 and len(refunds_at_the_provider(provider)) == 1


def test_a_credit_that_matches_no_request_is_refunded_once_and_stays_listed(provider, fees_due):
    stray = bank_transfer(provider, 300000, "chuyen tien an trua")  # no dossier code: nothing is owed for it
    callback("bank", stray)
    assert callback("bank", stray).duplicate
    notification = PaymentNotification.objects.get(transaction_id=stray["transaction_id"])
    assert (notification.outcome, notification.request) == ("unmatched", None)
    (refund,) = Refund.objects.all()
    assert (refund.request, refund.status, refund.amount, refund.provider, refund.transaction_id) == (
        None, "sent", 300000, "bank", stray["transaction_id"])
    assert Event.objects.filter(event_type="payment.refund_requested", partition="platform").count() == 1
    # Nothing else moved: the open request of the dossier is untouched.
    assert PaymentRequest.objects.get(dossier=fees_due).status == "pending"

    # The provider's confirmation is lost: the reconciliation pulls it and completes the refund, and still lists the
    # stray credit; its next run pulls nothing more and refunds nothing more.
    (returned,) = refunds_at_the_provider(provider)
    assert (returned["refund_reference"], returned["amount"]) == (refund.reference, 300000)
    report = services.reconcile(today())
    found = {(m["kind"], m.get("transaction")) for m in report.mismatches}
    assert {("unmatched", stray["transaction_id"]), ("missing_on_platform", returned["transaction_id"])} <= found
    refund.refresh_from_db()
    assert refund.status == "completed"
    assert PaymentNotification.objects.get(transaction_id=returned["transaction_id"]).outcome == "refund_confirmed"
    assert callback("bank", returned).duplicate  # the late callback itself changes nothing
    again = services.reconcile(today())
    assert again.recovered == 0 and ("unmatched", stray["transaction_id"]) in {
        (m["kind"], m.get("transaction")) for m in again.mismatches}
    services.work_once()
    assert Refund.objects.count() == 1 and len(refunds_at_the_provider(provider)) == 1
