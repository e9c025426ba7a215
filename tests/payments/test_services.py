"""Payment requests follow the dossier: opened at 6 with the version's fee lines, credited once by a verified
notification, cancelled when the desk takes cash, refunded when processing stops; the receipt once paid."""
import datetime as dt
import io
import json
import sqlite3
import threading

import pytest
from pypdf import PdfReader

from egov.dossiers import services as dossiers
from egov.dossiers.models import Status
from egov.kernel.ledger_models import Event
from egov.payments import services
from egov.payments.models import PaymentNotification, PaymentRequest, Refund
from tests.payments.conftest import signed

pytestmark = pytest.mark.django_db


def provider_transactions(provider, day):
    with sqlite3.connect(provider.state) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM transactions")]


def callback(provider, payload, **kwargs):
    """A signed callback received, then the payments worker's pass (``egov payments work --once``)."""
    body, headers = signed(provider, payload, **kwargs)
    answer = services.receive_callback(provider, body, timestamp=headers["X-Egov-Timestamp"],
                                       signature=headers["X-Egov-Signature"])
    services.work_once()
    return answer


def paid(request, transaction="GW1", amount=None, kind="paid"):
    return {"transaction_id": transaction, "kind": kind, "amount": request.amount if amount is None else amount,
            "reference": request.reference}


def test_entering_status_6_opens_a_request_with_the_versions_fee_lines(fees_due, agency):
    request = PaymentRequest.objects.get(dossier=fees_due)
    assert request.status == "pending" and request.amount == 200000
    assert request.lines == [{"type": "fee", "code": "LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp",
                              "amount": 200000}]
    assert (request.unit_code, request.unit_name, request.dossier_code) == (agency.code, agency.name, fees_due.code)
    assert Event.objects.filter(event_type="payment.requested", subject_id=str(request.pk)).exists()


def test_a_verified_payment_credits_the_dossier_once(fees_due):
    request = PaymentRequest.objects.get(dossier=fees_due)
    assert callback("gateway", paid(request)).status == 200
    assert callback("gateway", paid(request)).duplicate
    fees_due.refresh_from_db()
    request.refresh_from_db()
    assert fees_due.status == Status.PROCESSING and request.status == "paid"
    assert fees_due.transitions.filter(from_status=6, to_status=4).count() == 1
    assert not fees_due.pauses.filter(ended_at__isnull=True).exists()  # the clock runs again
    assert PaymentNotification.objects.get(transaction_id="GW1").outcome == "credited"


def test_a_wrong_amount_is_kept_and_flagged_not_credited(fees_due):
    request = PaymentRequest.objects.get(dossier=fees_due)
    callback("gateway", paid(request, amount=1000))
    fees_due.refresh_from_db()
    assert fees_due.status == Status.FEES_DUE
    assert PaymentNotification.objects.get(transaction_id="GW1").outcome == "mismatch"
    assert Event.objects.filter(event_type="payment.mismatch").exists()


def test_a_bank_credit_with_the_dossier_code_in_its_content_pays(fees_due):
    callback("bank", {"transaction_id": "BK1", "kind": "paid", "amount": 200000,
                      "content": f"NOP PHI HS {fees_due.code.replace('.', '')}"})
    fees_due.refresh_from_db()
    assert fees_due.status == Status.PROCESSING
    assert PaymentRequest.objects.get(dossier=fees_due).method == "vietqr"


def test_a_bank_credit_without_a_dossier_code_is_flagged_unmatched(fees_due):
    callback("bank", {"transaction_id": "BK2", "kind": "paid", "amount": 200000, "content": "chuyen tien"})
    assert PaymentNotification.objects.get(transaction_id="BK2").outcome == "unmatched"


def test_cash_at_the_desk_cancels_the_request_and_a_later_online_payment_is_a_double_payment(fees_due, officers,
                                                                                             settings):
    settings.PAYMENT_GATEWAY_URL = "http://127.0.0.1:9"  # nothing listens: the refund waits for its next attempt
    dossiers.record_payment(fees_due.pk, officer=officers["desk"])
    request = PaymentRequest.objects.get(dossier=fees_due)
    assert request.status == "cancelled"
    callback("gateway", paid(request))
    assert PaymentNotification.objects.get(transaction_id="GW1").outcome == "double_payment"
    # The money goes back: a refund of that transaction, which the worker tried to send.
    refund = Refund.objects.get(request=request)
    assert (refund.transaction_id, refund.amount, refund.status, refund.attempts) == ("GW1", 200000, "failed", 1)
    assert "paid at the desk" in refund.reason
    assert fees_due.transitions.filter(from_status=6, to_status=4).count() == 1  # the desk's, not the payment's


def test_fees_paid_while_a_withdrawal_was_pending_move_the_dossier_on_when_it_is_refused(fees_due, citizen, officers):
    request = PaymentRequest.objects.get(dossier=fees_due)
    dossiers.request_withdrawal(fees_due.pk, user=citizen, reason="Không cần nữa")
    callback("gateway", paid(request))
    notification = PaymentNotification.objects.get(transaction_id="GW1")
    assert notification.outcome == "credited" and "not moved" in notification.note
    fees_due.refresh_from_db()
    assert fees_due.status == Status.WITHDRAWAL_REQUESTED

    request.refresh_from_db()
    refused_at = request.paid_at + dt.timedelta(days=2)  # the agency took two days to decide
    dossier = dossiers.refuse_withdrawal(fees_due.pk, officer=officers["leader"], reason="Đã nộp phí, tiếp tục xử lý",
                                         at=refused_at)
    # 7 → 6 (the notice), then the payment system's credit 6 → 4, as if the payment had arrived at 6.
    assert dossier.status == Status.PROCESSING
    moves = list(dossier.transitions.order_by("id").values_list("from_status", "to_status", "details", "at"))[-2:]
    assert moves == [(7, 6, {}, refused_at), (6, 4, {"payment": request.reference}, refused_at)]
    # The wait for fees ended when they were paid: the two days the withdrawal was pending count as the agency's.
    assert list(dossier.pauses.values_list("reason", "ended_at")) == [("fees", request.paid_at)]
    assert Event.objects.filter(event_type="payment.credited_after_withdrawal_refused").count() == 1

    # A second round of fees, a withdrawal asked and refused again: the new fees are not paid, the old payment
    # is never credited twice.
    dossiers.request_fees(dossier.pk, officer=officers["specialist"])
    dossiers.request_withdrawal(dossier.pk, user=citizen, reason="Không cần nữa")
    dossier = dossiers.refuse_withdrawal(dossier.pk, officer=officers["leader"], reason="Chưa nộp phí lần hai")
    assert dossier.status == Status.FEES_DUE
    assert dossier.transitions.filter(from_status=6, to_status=4).count() == 1


def test_a_withdrawal_refused_back_to_6_without_payment_waits_for_the_fees(fees_due, citizen, officers):
    dossiers.request_withdrawal(fees_due.pk, user=citizen, reason="Không cần nữa")
    dossier = dossiers.refuse_withdrawal(fees_due.pk, officer=officers["leader"], reason="Đang chờ nộp phí")
    assert dossier.status == Status.FEES_DUE
    assert PaymentRequest.objects.get(dossier=fees_due).status == "pending"
    # Paid now, it is credited as usual.
    callback("gateway", paid(PaymentRequest.objects.get(dossier=fees_due)))
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING and dossier.transitions.filter(from_status=6, to_status=4).count() == 1


def test_stopping_a_paid_dossier_asks_the_provider_for_a_refund(fees_due, officers, settings, tmp_path):
    from egov.payments import sandbox

    provider, server = sandbox.serve("127.0.0.1", 0, state=str(tmp_path / "sandbox.sqlite3"),
                                     callback_url="http://127.0.0.1:9/nowhere", secrets_by_provider=settings.PAYMENT_SECRETS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.PAYMENT_GATEWAY_URL = provider.base_url
    try:
        # The payment the sandbox recorded (what a payer's click makes), announced to the platform.
        request = PaymentRequest.objects.get(dossier=fees_due)
        body = provider._record(provider="gateway", kind="paid", amount=request.amount, reference=request.reference)
        callback("gateway", body)
        dossiers.stop(fees_due.pk, officer=officers["head"], reason="Hồ sơ giả mạo")
        refund = Refund.objects.get(request=request)
        assert refund.status == "requested"
        services.work_once()  # the payments worker sends it
        refund.refresh_from_db()
        assert refund.status == "sent" and refund.amount == 200000
        # The sandbox has the refund, keyed on our reference; asking again does not refund twice.
        services.send_refund(refund.pk)
        import datetime as dt

        refunds = [t for t in provider_transactions(provider, dt.date.today()) if t["kind"] == "refunded"]
        assert len(refunds) == 1 and json.loads(refunds[0]["body"])["refund_reference"] == refund.reference
        confirmation = json.loads(refunds[0]["body"])
    finally:
        provider.stop()
        server.shutdown()
    # The provider confirms: the request is refunded; a repeat of the confirmation changes nothing.
    callback("gateway", confirmation)
    callback("gateway", confirmation)
    request.refresh_from_db()
    refund.refresh_from_db()
    assert (request.status, refund.status) == ("refunded", "completed")


def test_stopping_an_unpaid_dossier_cancels_its_request(fees_due, officers):
    dossiers.stop(fees_due.pk, officer=officers["head"], reason="Không đủ điều kiện")
    assert PaymentRequest.objects.get(dossier=fees_due).status == "cancelled"


def test_the_receipt_is_a_vietnamese_pdf_issued_once_paid(fees_due, citizen):
    request = PaymentRequest.objects.get(dossier=fees_due)
    with pytest.raises(services.PaymentRefused):
        services.receipt_pdf(request, reader=citizen)
    callback("gateway", paid(request))
    request.refresh_from_db()
    text = PdfReader(io.BytesIO(services.receipt_pdf(request, reader=citizen))).pages[0].extract_text()
    assert "BIÊN LAI THU PHÍ, LỆ PHÍ" in text and fees_due.code in text and "200.000 đồng" in text
    assert Event.objects.filter(event_type="dossier.read", payload__purpose="payment receipt").exists()


def test_a_forged_callback_is_refused_kept_and_logged_and_does_not_block_the_real_one(fees_due, caplog):
    request = PaymentRequest.objects.get(dossier=fees_due)
    with caplog.at_level("WARNING", logger="egov.payments"):
        answer = callback("gateway", paid(request), secret="not-the-secret")
    assert answer.status == 401
    # Logged twice: the operators' log (a security warning naming the reason) and the ledger (below).
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.name == "egov.payments"] == [
        ("egov.payments", "WARNING", "payment callback from gateway refused: signature does not match")]
    forged = PaymentNotification.objects.get(signature_ok=False)
    assert forged.transaction_id is None and forged.outcome == "forged"
    assert json.loads(forged.raw_body)["transaction_id"] == "GW1"
    assert Event.objects.filter(event_type="payment.callback_forged", partition="platform").exists()
    assert callback("gateway", paid(request)).status == 200 and not callback("gateway", paid(request)).status != 200
    fees_due.refresh_from_db()
    assert fees_due.status == Status.PROCESSING
