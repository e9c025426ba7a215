"""Paying fees in Chromium (Vietnamese browser), with axe on every page.

The applicant opens their dossier waiting for fees, follows the link to pay, chooses VietQR and sees the QR code;
their bank's credit (a signed callback) is applied by the payments worker; the page then shows the fees paid and the
e-receipt (every step a plain link or form). A platform administrator reads the reconciliation reports.
The full journey through the sandbox gateway's page is the lead's, after the signed-results work:
/payments/<code>/ → "Pay through the payment gateway" → the sandbox's "Pay" → back to /payments/<code>/returned/.
"""
import datetime as dt

from tests.e2e.test_accounts_journeys import sign_in
from tests.e2e.test_backoffice_journeys import PDF, office, sign_out, submit  # noqa: F401


def test_an_applicant_pays_by_vietqr_and_gets_the_receipt(page, visit, check_page, office):  # noqa: F811
    from django.core.files.uploadedfile import SimpleUploadedFile

    from egov.dossiers import services
    from egov.payments import services as payments
    from egov.payments.models import PaymentRequest, ReconciliationReport
    from tests.payments.conftest import signed

    version = office["version"]
    version.fees = [{"code": "LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000}]
    version.save(update_fields=["fees"])
    Role = office["Role"]
    citizen = office["make"]("do-van-hung", Role.CITIZEN, "Hùng", "Đỗ Văn")
    desk, specialist = office["make"]("desk", Role.DESK_OFFICER), office["make"]("specialist", Role.SPECIALIST)
    dossier = services.submit_online(applicant_user=citizen, procedure_version=version, agency=office["agency"],
                                     form_data={"purpose": "Du học"},
                                     files=[("to_khai", SimpleUploadedFile("a.pdf", PDF))])
    services.receive(dossier.pk, officer=desk)
    services.transfer(dossier.pk, officer=desk)
    services.request_fees(dossier.pk, officer=specialist)

    sign_in(page, visit, citizen.username)
    visit(page, f"/dossiers/{dossier.code}/")
    with page.expect_navigation():
        page.click(f"a[href='/payments/{dossier.code}/']")
    check_page(page)
    submit(page, "form[action$='/vietqr/'] button[type=submit]")
    check_page(page)
    assert page.locator(f"img[src='/payments/{dossier.code}/qr.svg']").is_visible()

    request = PaymentRequest.objects.get(dossier=dossier)
    body, headers = signed("bank", {"transaction_id": "BK-E2E", "kind": "paid", "amount": 200000,
                                    "content": f"NOP PHI HS {dossier.code}"})
    payments.receive_callback("bank", body, timestamp=headers["X-Egov-Timestamp"],
                              signature=headers["X-Egov-Signature"])
    payments.work_once()
    visit(page, f"/payments/{dossier.code}/")
    assert page.locator(f"a[href='/payments/{dossier.code}/receipt.pdf']").is_visible()
    request.refresh_from_db()
    assert request.status == "paid"

    ReconciliationReport.objects.create(day=dt.date.today(), created_at=request.paid_at, provider_count=1,
                                        platform_count=1, mismatches=[{"kind": "missing_on_platform",
                                                                       "provider": "bank", "transaction": "BK-X",
                                                                       "provider_amount": 200000}])
    sign_out(page)
    admin = office["make"]("platform-admin", Role.CITIZEN)
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    sign_in(page, visit, admin.username)
    visit(page, "/payments/reconciliation/")
    assert "BK-X" in page.content()
