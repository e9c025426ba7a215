"""Reads of payments: the state a dossier page shows, the VietQR payload, the reconciliation reports."""
from __future__ import annotations

import io

import segno
from django.conf import settings

from egov.payments import rules
from egov.payments.models import PaymentNotification, PaymentRequest, ReconciliationReport, Refund


def requests_of(dossier) -> list[PaymentRequest]:
    return list(PaymentRequest.objects.filter(dossier=dossier).order_by("-created_at", "-id"))


def current_request(dossier) -> PaymentRequest | None:
    """The request to show: the open one, else the latest."""
    requests = requests_of(dossier)
    for request in requests:
        if request.status == PaymentRequest.Status.PENDING:
            return request
    return requests[0] if requests else None


def wrong_amount_refunds(request: PaymentRequest) -> list[Refund]:
    """The refunds of payments of the wrong amount made for ``request``: shown to the applicant while it is open, so
    they know their money is on its way back and that the exact amount is still due."""
    mismatched = PaymentNotification.objects.filter(request=request, outcome=rules.MISMATCH).values("transaction_id")
    return list(Refund.objects.filter(request=request, transaction_id__in=mismatched).order_by("created_at", "id"))


def vietqr_payload(request: PaymentRequest) -> str:
    """The VietQR (Napas EMVCo) payload: the collection account, the amount, and the dossier code as the transfer's
    content, built by the ``vietnam-qr-pay`` package."""
    from vietnam_qr_pay import QRPay

    qr = QRPay.init_viet_qr(bank_bin=settings.PAYMENT_BANK_BIN, bank_number=settings.PAYMENT_BANK_ACCOUNT,
                            amount=str(request.amount), purpose=rules.transfer_content(request.dossier_code))
    return qr.build()


def vietqr_svg(request: PaymentRequest) -> bytes:
    out = io.BytesIO()
    segno.make(vietqr_payload(request), error="m").save(out, kind="svg", scale=6, border=4,
                                                          title=f"VietQR {request.dossier_code}")
    return out.getvalue()


def reports(limit: int = 60) -> list[ReconciliationReport]:
    return list(ReconciliationReport.objects.order_by("-day")[:limit])
