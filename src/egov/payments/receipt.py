"""Biên lai thu phí, lệ phí điện tử: the e-receipt of a paid request, a Vietnamese PDF with the one-stop forms' page
and font (``egov.dossiers.documents``). Vietnamese by law, like the forms: not translated."""
from __future__ import annotations

from egov.dossiers import documents as d
from egov.dossiers import paperwork
from egov.payments.models import PaymentRequest

METHODS_VI = {"vietqr": "Chuyển khoản VietQR", "gateway": "Cổng thanh toán trực tuyến"}


def render(request: PaymentRequest) -> bytes:
    paid_at = request.paid_at
    dossier = request.dossier
    facts = paperwork.facts(dossier)
    pdf = d._new(paid_at, facts)
    d._header(pdf, paperwork.issuer(dossier.receiving_agency), form_no="", number=f"{request.reference}/BL",
              day=d._local_day(paid_at))
    d._title(pdf, "BIÊN LAI THU PHÍ, LỆ PHÍ", "(Biên lai điện tử)")
    d._field(pdf, "Đơn vị thu", f"{request.unit_name} (mã {request.unit_code})")
    d._field(pdf, "Mã hồ sơ", request.dossier_code)
    d._field(pdf, "Thủ tục", facts.procedure_name)
    d._field(pdf, "Người nộp", facts.applicant_name)
    d._table(pdf, ["STT", "Loại", "Mã", "Tên khoản thu", "Số tiền"], [8, 12, 18, 44, 22],
             [[str(i), "Phí, lệ phí" if line["type"] == "fee" else line["type"], line["code"], line["name"],
               d.vnd(int(line["amount"]))] for i, line in enumerate(request.lines, start=1)])
    pdf.ln(2)
    d._field(pdf, "Tổng cộng", d.vnd(int(request.amount)))
    d._field(pdf, "Hình thức thanh toán", METHODS_VI.get(request.method, request.method))
    d._field(pdf, "Mã giao dịch", request.paid_transaction)
    d._field(pdf, "Thời điểm thanh toán", d.vn_instant(paid_at))
    if request.status == PaymentRequest.Status.REFUNDED:
        d._paragraph(pdf, "Khoản thu này đã được hoàn trả cho người nộp.", style="B")
    return d._pdf(pdf)
