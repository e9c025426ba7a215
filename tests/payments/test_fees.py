"""Fees that count the dossier's answers: the payment request, the pay page, the receipt and form 01 ask for what the
copies cost (the criminal-record certificate: from the third copy, 5.000 đ each), not the version's fixed amount."""
import io

import pytest
from pypdf import PdfReader

from egov.dossiers import services as dossiers
from egov.dossiers.models import Channel
from egov.payments import services
from egov.payments.models import PaymentRequest
from tests.dossiers.conftest import APPLICANT, make_version, pdf_file
from tests.payments.conftest import signed

pytestmark = pytest.mark.django_db

PER_COPY = [{"code": "LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000, "per": "copies",
             "unit": "bản", "included": 2, "unit_amount": 5000}]


@pytest.fixture
def per_copy(agency, calendar_2026):  # noqa: F811
    version = make_version(agency)
    version.fees = PER_COPY
    version.save(update_fields=["fees"])
    return version


def asked_for_fees(citizen, officers, version, agency, form_data):
    dossier = dossiers.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                     form_data=form_data, files=[("to_khai", pdf_file())])
    dossiers.receive(dossier.pk, officer=officers["desk"])
    dossiers.transfer(dossier.pk, officer=officers["desk"])
    return dossiers.request_fees(dossier.pk, officer=officers["specialist"])


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_five_copies_are_asked_215000_on_the_request_the_pay_page_and_the_receipt(
        client, citizen, officers, per_copy, agency, signed_in):
    dossier = asked_for_fees(citizen, officers, per_copy, agency, {"purpose": "du học", "copies": 5})
    request = PaymentRequest.objects.get(dossier=dossier)
    assert request.amount == 215000
    assert request.lines == [{"type": "fee", "code": "LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp (5 bản)",
                              "amount": 215000}]
    signed_in(client, citizen)
    page = client.get(f"/payments/{dossier.code}/").content.decode()
    assert "Phí cung cấp thông tin lý lịch tư pháp (5 bản)" in page and "215.000" in page and "200.000" not in page

    body, headers = signed("gateway", {"transaction_id": "GW5", "kind": "paid", "amount": 215000,
                                       "reference": request.reference})
    services.receive_callback("gateway", body, timestamp=headers["X-Egov-Timestamp"],
                              signature=headers["X-Egov-Signature"])
    services.work_once()
    request.refresh_from_db()
    assert request.status == PaymentRequest.Status.PAID
    receipt = pdf_text(client.get(f"/payments/{dossier.code}/receipt.pdf").content)
    assert "(5 bản)" in receipt and "215.000" in receipt


def test_two_copies_or_no_answer_cost_the_fixed_amount(citizen, officers, per_copy, agency):
    two = asked_for_fees(citizen, officers, per_copy, agency, {"purpose": "du học", "copies": 2})
    assert PaymentRequest.objects.get(dossier=two).amount == 200000
    unanswered = asked_for_fees(citizen, officers, per_copy, agency, {"purpose": "du học"})
    request = PaymentRequest.objects.get(dossier=unanswered)
    assert request.amount == 200000 and request.lines[0]["name"] == "Phí cung cấp thông tin lý lịch tư pháp"


def test_form_01_lists_the_fee_for_the_copies_asked(officers, per_copy):
    dossier = dossiers.intake_at_desk(officer=officers["desk"], procedure_version=per_copy, channel=Channel.IN_PERSON,
                                      applicant=dict(APPLICANT), subject=None,
                                      form_data={"purpose": "du học", "copies": 4}, files=[("to_khai", pdf_file())])
    text = pdf_text(dossiers.form_pdf(dossier, "01", reader=officers["desk"]).content)
    assert "(4 bản)" in text and "210.000" in text and "200.000" not in text


def test_the_fees_notice_asks_what_the_copies_cost(citizen, officers, per_copy, agency):
    from egov.notifications.models import Notification
    from egov.notifications.services import run_once

    citizen.email = "hung.citizen@example.org"
    citizen.save(update_fields=["email"])
    asked_for_fees(citizen, officers, per_copy, agency, {"purpose": "du học", "copies": 5})
    run_once()
    notice = Notification.objects.get(user=citizen, event_type="dossier.request_fees")
    assert "215.000" in notice.title and "215.000" in notice.body and "(5 bản)" in notice.body


def test_the_procedure_page_says_what_each_further_copy_or_page_costs():
    from django.utils import translation

    from egov.portal.catalogue_views import fee_text

    with translation.override("en"):
        assert fee_text(PER_COPY[0]) == ("200.000 đồng for the first 2 bản, then 5.000 đồng for each further one")
        assert fee_text({"code": "CT", "name": "Chứng thực", "amount": 0, "per": "pages", "unit": "trang",
                         "included": 2, "unit_amount": 1000, "times": "copies", "times_unit": "bản"}) == (
            "1.000 đồng for each trang after the first 2, for each bản")
        assert fee_text({"code": "LP", "name": "Lệ phí", "amount": 50000}) == "50.000 đồng"
