# ruff: noqa: F811  (fixtures imported from other conftest modules are used as test arguments)
"""Money going back to the applicant is announced, against the sandbox bank (its HTTP server on loopback): a refund
started (how much, why: the dossier withdrawn after paying, a payment of the wrong amount, a payment no longer due)
and completed. A credit that matched no request has no applicant: nobody is told."""
import pytest

from egov.dossiers import services as dossiers
from egov.notifications import services
from egov.notifications.models import Message, Notification
from egov.payments import rules as payment_rules
from egov.payments import services as payments
from egov.payments.models import Refund
from tests.payments.conftest import dossier_waiting_for_fees, provider  # noqa: F401  (the sandbox bank)
from tests.payments.test_refunds import bank_transfer, callback, refunds_at_the_provider

SITE = "https://dichvucong.example.gov.vn"


@pytest.fixture
def public_url(settings):
    settings.PUBLIC_URL = SITE


@pytest.fixture
def fees_due(reachable_citizen, officers, version, agency):
    return dossier_waiting_for_fees(reachable_citizen, officers, version, agency)


def pay(provider, dossier, amount: int) -> dict:
    transfer = bank_transfer(provider, amount, payment_rules.transfer_content(dossier.code))
    callback("bank", transfer)
    return transfer


def confirm_every_refund(provider) -> None:
    payments.work_once()
    for returned in refunds_at_the_provider(provider):
        callback("bank", returned)


def notices(event_type: str) -> list[Notification]:
    return list(Notification.objects.filter(event_type=event_type).order_by("id"))


def test_a_withdrawal_after_paying_announces_the_refund_and_its_completion(
        provider, fees_due, reachable_citizen, officers, smtp_server, sms_provider):
    pay(provider, fees_due, 200000)
    dossiers.request_withdrawal(fees_due.pk, user=reachable_citizen, reason="Không cần nữa")
    dossiers.confirm_withdrawal(fees_due.pk, officer=officers["desk"])
    confirm_every_refund(provider)
    services.run_once()
    refund = Refund.objects.get()
    (started,) = notices("payment.refund_requested")
    assert started.title == f"Hồ sơ {fees_due.code}: hoàn trả 200.000 đồng" and started.dossier_code == fees_due.code
    assert "Lý do: hồ sơ đã được rút sau khi phí, lệ phí đã được nộp." in started.body
    assert refund.reference in started.body
    (done,) = notices("payment.refund_confirmed")
    assert done.title == f"Hồ sơ {fees_due.code}: đã hoàn trả 200.000 đồng" and refund.reference in done.body
    assert [s["text"] for s in sms_provider.to("0912345678")][-2:] == [
        f"Hồ sơ {fees_due.code}: hoàn trả 200.000 đồng (mã {refund.reference}), lý do: hồ sơ đã rút.",
        f"Hồ sơ {fees_due.code}: đã hoàn trả 200.000 đồng"]


def test_a_payment_of_the_wrong_amount_goes_back_and_the_fees_stay_due(
        provider, fees_due, reachable_citizen, smtp_server, sms_provider, public_url):
    services.set_language(reachable_citizen, "en")
    pay(provider, fees_due, 150000)
    services.run_once()
    (started,) = notices("payment.refund_requested")
    assert started.title == f"Dossier {fees_due.code}: 150,000 VND to be refunded"
    assert "Why: the amount paid was not the amount due." in started.body
    assert f"The fees of 200,000 VND are still due: pay the exact amount at: {SITE}/payments/{fees_due.code}/." \
        in started.body
    assert smtp_server.to("hung.citizen@example.org")[-1]["Subject"] == started.title


def test_a_second_payment_goes_back_as_no_longer_due(provider, fees_due, reachable_citizen, smtp_server,
                                                     sms_provider):
    pay(provider, fees_due, 200000)
    pay(provider, fees_due, 200000)
    confirm_every_refund(provider)
    services.run_once()
    (started,) = notices("payment.refund_requested")
    assert "Lý do: khoản tiền này không còn phải nộp" in started.body
    assert len(notices("payment.refund_confirmed")) == 1
    assert len(notices("dossier.fees_paid")) == 1


def test_a_refund_of_a_walk_ins_fees_reaches_the_contact_in_their_dossier(provider, officers, version,
                                                                          smtp_server, sms_provider):
    from tests.notifications.test_notice_facts import walk_in

    dossier = walk_in(officers, version)
    dossiers.transfer(dossier.pk, officer=officers["desk"])
    dossiers.request_fees(dossier.pk, officer=officers["specialist"])
    pay(provider, dossier, 200000)   # by bank transfer, with the dossier code
    dossiers.stop(dossier.pk, officer=officers["head"], reason="Giấy tờ giả mạo")
    services.run_once()
    assert Notification.objects.count() == 0
    assert smtp_server.to("hung@example.org")[-1]["Subject"] == f"Hồ sơ {dossier.code}: hoàn trả 200.000 đồng"
    assert "hồ sơ dừng xử lý" in sms_provider.to("0903123456")[-1]["text"]


def test_a_credit_that_matches_no_dossier_tells_nobody(provider, fees_due, smtp_server, sms_provider):
    callback("bank", bank_transfer(provider, 90000, "CHUYEN TIEN NHAM"))
    confirm_every_refund(provider)
    assert Refund.objects.filter(request__isnull=True, status="completed").count() == 1
    services.run_once()
    assert not Message.objects.filter(purpose__startswith="payment.").exists()
    assert not Notification.objects.filter(event_type__startswith="payment.").exists()


def test_the_cause_of_a_refund_is_read_from_the_reason_payments_keeps():
    from egov.notifications import rules

    assert rules.refund_cause("processing stopped") == "stopped"
    assert rules.refund_cause("processing stopped", withdrawn=True) == "withdrawn"
    assert rules.refund_cause("wrong amount: 150000 VND paid, 200000 VND due; the request stays open") == \
        "wrong_amount"
    assert rules.refund_cause("paid twice: the request was already paid") == "double_payment"
    assert rules.refund_cause("paid after the request was closed (processing stopped)") == "double_payment"
    assert rules.refund_cause("no payment request matches this payment") == "other"
