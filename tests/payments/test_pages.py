"""The applicant's payment pages and who may see them: only the applicant pays (anyone else: 404, anonymous: sign
in); the QR carries the VietQR payload; the receipt once paid; officers see the payment on the dossier page;
reconciliation reports for platform administrators only."""
import pytest
from vietnam_qr_pay import QRPay

from egov.accounts.models import Role, User
from egov.payments import queries
from egov.payments.models import PaymentRequest
from tests.payments.conftest import signed

pytestmark = pytest.mark.django_db


def test_the_dossier_page_offers_to_pay_and_the_pay_page_lists_the_fees(client, fees_due, citizen, signed_in):
    signed_in(client, citizen)
    page = client.get(f"/dossiers/{fees_due.code}/").content.decode()
    assert "Pay fees" in page and f"/payments/{fees_due.code}/" in page
    page = client.get(f"/payments/{fees_due.code}/").content.decode()
    assert "Phí cung cấp thông tin lý lịch tư pháp" in page and "200.000" in page
    assert "Pay by VietQR bank transfer" in page and "Pay through the payment gateway" in page


def test_choosing_vietqr_shows_the_code_whose_payload_names_the_account_amount_and_dossier(
        client, fees_due, citizen, signed_in, settings):
    signed_in(client, citizen)
    response = client.post(f"/payments/{fees_due.code}/vietqr/")
    assert response.status_code == 302 and response["Location"] == f"/payments/{fees_due.code}/"
    page = client.get(f"/payments/{fees_due.code}/").content.decode()
    assert f"/payments/{fees_due.code}/qr.svg" in page and f"NOP PHI HS {fees_due.code}" in page
    assert "<dd>Vietcombank (BIN 970436)</dd>" in page  # the bank a citizen knows, not only its number
    svg = client.get(f"/payments/{fees_due.code}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    qr = QRPay(queries.vietqr_payload(PaymentRequest.objects.get(dossier=fees_due)))
    assert qr.is_valid and qr.amount == "200000" and qr.consumer.bank_number == settings.PAYMENT_BANK_ACCOUNT
    assert fees_due.code in qr.additional_data.purpose


def test_someone_else_cannot_see_or_pay_the_fees(client, fees_due, other_citizen, signed_in):
    assert client.get(f"/payments/{fees_due.code}/").status_code == 302  # anonymous: sign in first
    signed_in(client, other_citizen)
    for path in ("", "qr.svg", "receipt.pdf", "returned/"):
        assert client.get(f"/payments/{fees_due.code}/{path}").status_code == 404
    for path in ("vietqr/", "gateway/"):
        assert client.post(f"/payments/{fees_due.code}/{path}").status_code == 404
    assert PaymentRequest.objects.get(dossier=fees_due).method == ""


def test_the_gateway_unreachable_is_said_plainly_and_nothing_is_lost(client, fees_due, citizen, signed_in, settings):
    settings.PAYMENT_GATEWAY_URL = "http://127.0.0.1:9"
    signed_in(client, citizen)
    response = client.post(f"/payments/{fees_due.code}/gateway/")
    assert response.status_code == 409 and "cannot be reached" in response.content.decode()
    assert PaymentRequest.objects.get(dossier=fees_due).status == "pending"


def test_the_receipt_comes_once_paid_and_officers_see_the_payment(client, fees_due, citizen, officers, signed_in):
    from egov.payments import services

    signed_in(client, citizen)
    assert client.get(f"/payments/{fees_due.code}/receipt.pdf").status_code == 409
    request = PaymentRequest.objects.get(dossier=fees_due)
    body, headers = signed("gateway", {"transaction_id": "GW1", "kind": "paid", "amount": 200000,
                                       "reference": request.reference})
    services.receive_callback("gateway", body, timestamp=headers["X-Egov-Timestamp"],
                              signature=headers["X-Egov-Signature"])
    services.work_once()
    response = client.get(f"/payments/{fees_due.code}/receipt.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert "e-receipt" in client.get(f"/dossiers/{fees_due.code}/").content.decode()
    officer = signed_in(client, officers["desk"])
    page = officer.get(f"/backoffice/dossiers/{fees_due.code}/").content.decode()
    assert "Paid" in page and "Payment gateway" in page
    assert officer.get(f"/payments/{fees_due.code}/receipt.pdf").status_code == 200


def test_reconciliation_reports_are_for_platform_administrators(client, citizen, signed_in):
    signed_in(client, citizen)
    assert client.get("/payments/reconciliation/").status_code == 403
    admin = User.objects.create(username="platform.admin", role=Role.CITIZEN, is_staff=True)
    signed_in(client, admin)
    assert "Payment reconciliation" in client.get("/payments/reconciliation/").content.decode()


def test_reconciliation_shows_each_mismatch_kind_as_a_translated_label_with_its_code(client, signed_in, settings):
    import datetime as dt

    from django.utils import timezone

    from egov.payments import rules
    from egov.payments.models import ReconciliationReport

    kinds = ReconciliationReport.Mismatch
    assert rules.FLAGGED <= set(kinds.values)  # every flagged outcome a report lists has its label
    ReconciliationReport.objects.create(
        day=dt.date(2026, 3, 5), created_at=timezone.now(), provider_count=9, platform_count=9,
        mismatches=[{"kind": kind, "transaction": f"T{i}", "provider_amount": 200000, "platform_amount": None}
                    for i, kind in enumerate(kinds.values)]
        # A kind from another version of the code, and rows no code writes: shown as they are, never a 500.
        + [{"kind": "from_a_newer_version", "transaction": "T-NEW"}, {"kind": ["odd"]}, "not a row"])
    signed_in(client, User.objects.create(username="platform.admin", role=Role.CITIZEN, is_staff=True))
    page = client.get("/payments/reconciliation/").content.decode()  # English, as signed_in asks
    assert "Missing on the platform (recovered from the provider)" in page
    assert "Paid when nothing was due: refunded" in page and "<code>double_payment</code>" in page
    assert "from_a_newer_version" in page and "T-NEW" in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    page = client.get("/payments/reconciliation/").content.decode()
    for label in ("Thiếu trên hệ thống", "Số tiền không khớp với nhà cung cấp", "Trạng thái giao dịch không khớp",
                  "Không có tại nhà cung cấp dịch vụ thanh toán", "Nộp khi không còn khoản phải nộp"):
        assert label in page
    assert "<code>missing_on_platform</code>" in page
