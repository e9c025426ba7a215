"""Callbacks over real HTTP to the platform under gunicorn: valid, repeated, reordered, forged, stale, malformed,
wrong amount. After each, the payments worker's pass runs (``egov payments work --once``, here in the test process)."""
import time

from egov.dossiers.models import Dossier, Status
from egov.kernel.ledger_models import Event
from egov.payments import services
from egov.payments.models import PaymentNotification, PaymentRequest
from tests.payments.conftest import dossier_waiting_for_fees, post, signed


def send(url, provider, payload, **kwargs):
    body, headers = signed(provider, payload, **kwargs)
    answer = post(f"{url}/api/v1/payments/callbacks/{provider}", body, headers)
    services.work_once()
    return answer


def test_callbacks_over_http(processes, citizen, officers, version, agency):
    dossier = dossier_waiting_for_fees(citizen, officers, version, agency)
    request = PaymentRequest.objects.get(dossier=dossier)
    url = processes.platform()
    paid = {"transaction_id": "GW-1", "kind": "paid", "amount": 200000, "reference": request.reference}

    # Forged (wrong secret): 401, problem+json, kept as evidence and logged; nothing credited.
    status, body = send(url, "gateway", paid, secret="guessed-secret")
    assert status == 401 and body["title"] == "Signature refused"
    assert Event.objects.filter(event_type="payment.callback_forged").count() == 1
    # Stale: a captured callback replayed an hour later.
    assert send(url, "gateway", paid, timestamp=int(time.time()) - 3600)[0] == 401
    # Not signed at all.
    assert post(f"{url}/api/v1/payments/callbacks/gateway", b"{}", {"Content-Type": "application/json"})[0] == 401
    # Unknown provider, malformed body.
    assert send(url, "nobody", paid, secret="x")[0] == 404
    status, body = send(url, "gateway", {"transaction_id": "GW-X", "kind": "paid", "amount": "lots"})
    assert status == 400 and "whole amount" in body["detail"]
    assert Dossier.objects.get(pk=dossier.pk).status == Status.FEES_DUE

    # Reordered: the refund confirmation and a "pending" arrive before the payment: flagged / noted, nothing moves.
    assert send(url, "gateway", {**paid, "transaction_id": "GW-R", "kind": "refunded"}) == (200, {"status": "accepted"})
    assert send(url, "gateway", {**paid, "transaction_id": "GW-0", "kind": "pending"})[0] == 200
    assert Dossier.objects.get(pk=dossier.pk).status == Status.FEES_DUE
    # A wrong amount is kept and flagged.
    assert send(url, "gateway", {**paid, "transaction_id": "GW-W", "amount": 2000})[0] == 200
    assert PaymentNotification.objects.get(transaction_id="GW-W").outcome == "mismatch"
    assert Dossier.objects.get(pk=dossier.pk).status == Status.FEES_DUE

    # The payment: credited; its repeats answer 200 and change nothing; a late failure changes nothing.
    assert send(url, "gateway", paid) == (200, {"status": "accepted"})
    for _ in range(3):
        assert send(url, "gateway", paid) == (200, {"status": "duplicate"})
    assert send(url, "gateway", {**paid, "transaction_id": "GW-F", "kind": "failed"})[0] == 200
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING
    assert dossier.transitions.filter(from_status=6, to_status=4).count() == 1
    outcomes = dict(PaymentNotification.objects.filter(signature_ok=True).values_list("transaction_id", "outcome"))
    assert outcomes == {"GW-R": "unexpected_refund", "GW-0": "noted", "GW-W": "mismatch", "GW-1": "credited",
                        "GW-F": "stale"}
    assert PaymentNotification.objects.filter(signature_ok=False).count() == 3
