# ruff: noqa: F811  (fixtures imported from other conftest modules are used as test arguments)
"""Every dossier event that concerns the applicant reaches them, end to end: dossiers driven through the services
(desk, processing units, the applicant, the payment provider), then one pass of the notifier; each event gives
exactly one in-app notice, one email (through the real SMTP server) and one SMS (through the provider interface), in
the applicant's language, quoting the event's key facts. The stop after the fees were paid online ends with the
refund announced, started and completed."""
import pytest

from egov.dossiers import services as dossiers
from egov.kernel.ledger_models import Event
from egov.notifications import rules, services
from egov.notifications.models import Message, Notification
from egov.payments import rules as payment_rules
from tests.dossiers.conftest import pdf_file
from tests.kernel.conftest import vn
from tests.payments.conftest import provider  # noqa: F401  (the sandbox bank, on loopback)
from tests.payments.test_refunds import bank_transfer, callback, refunds_at_the_provider

SITE = "https://dichvucong.example.gov.vn"


@pytest.fixture
def public_url(settings):
    settings.PUBLIC_URL = SITE


def online(citizen, version, agency, at):
    return dossiers.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                  form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())], at=vn(at))


def the_long_way(citizen, version, agency, officers):
    """Submitted, asked to supplement before reception, supplied, received, transferred, fees asked and paid at the
    desk, withdrawal asked and refused, an apology with a new date, decided, delivered online."""
    dossier = online(citizen, version, agency, "2026-03-02 08:00")
    dossiers.request_supplement(dossier.pk, officer=officers["desk"], missing=["Bản chụp Căn cước công dân"],
                                note="Chụp rõ hai mặt.", at=vn("2026-03-02 08:30"))
    dossiers.supply(dossier.pk, user=citizen, files=[("cccd", pdf_file("cccd.pdf"))], at=vn("2026-03-02 09:00"))
    dossiers.receive(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 10:00"))
    dossiers.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 10:30"))
    dossiers.request_fees(dossier.pk, officer=officers["specialist"], at=vn("2026-03-03 09:00"))
    dossiers.record_payment(dossier.pk, officer=officers["desk"], at=vn("2026-03-03 10:00"))
    dossiers.request_withdrawal(dossier.pk, user=citizen, reason="Đổi ý", at=vn("2026-03-03 11:00"))
    dossiers.refuse_withdrawal(dossier.pk, officer=officers["desk"], reason="Hồ sơ đã được thẩm định xong",
                               at=vn("2026-03-03 14:00"))
    dossiers.apologise(dossier.pk, officer=officers["head"], new_appointment_at=vn("2026-03-13 17:00"),
                       reason="Cần xác minh thêm", at=vn("2026-03-04 09:00"))
    dossiers.complete_step(dossier.pk, officer=officers["specialist"], task_id="process", at=vn("2026-03-05 09:00"))
    dossiers.complete_step(dossier.pk, officer=officers["head"], task_id="review", at=vn("2026-03-05 10:00"))
    dossiers.complete_step(dossier.pk, officer=officers["leader"], task_id="approve", at=vn("2026-03-05 11:00"))
    dossiers.attach_result(dossier.pk, officer=officers["leader"], file=None, at=vn("2026-03-05 11:30"))
    dossiers.deliver(dossier.pk, officer=officers["desk"], method="online", at=vn("2026-03-06 09:00"))
    return dossier


def refused(citizen, version, agency, officers):
    dossier = online(citizen, version, agency, "2026-03-02 08:10")
    dossiers.refuse(dossier.pk, officer=officers["desk"], reasons=["Không thuộc thẩm quyền của Sở"],
                    at=vn("2026-03-02 09:10"))
    return dossier


def withdrawn(citizen, version, agency, officers):
    dossier = online(citizen, version, agency, "2026-03-02 08:20")
    dossiers.receive(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 09:20"))
    dossiers.request_withdrawal(dossier.pk, user=citizen, reason="Không cần nữa", at=vn("2026-03-02 10:20"))
    dossiers.confirm_withdrawal(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 11:20"))
    return dossier


def stopped_after_paying_online(citizen, version, agency, officers, provider):
    """Fees paid by bank transfer (the sandbox bank's credit carries the dossier code), then processing stopped:
    the payment goes back through the bank, which confirms it."""
    dossier = online(citizen, version, agency, "2026-03-02 08:30")
    dossiers.receive(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 09:30"))
    dossiers.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 10:30"))
    dossiers.request_fees(dossier.pk, officer=officers["specialist"], at=vn("2026-03-02 11:00"))
    callback("bank", bank_transfer(provider, 200000, payment_rules.transfer_content(dossier.code)))
    dossiers.stop(dossier.pk, officer=officers["head"], reason="Giấy tờ giả mạo")
    from egov.payments.services import work_once

    work_once()  # the worker sends the refund to the bank
    (returned,) = refunds_at_the_provider(provider)
    callback("bank", returned)  # the bank confirms it
    return dossier


# What each notice must say: (event, which dossier, facts in the email, facts in the SMS), per language.
FACTS = {
    "vi": [
        ("dossier.submitted", "long", ["Sở Tư pháp Thành phố Hồ Chí Minh", "/dossiers/{code}/"], ["{code}"]),
        ("dossier.request_supplement", "long", ["- Bản chụp Căn cước công dân", "Hướng dẫn của cơ quan: Chụp rõ hai mặt.",
                                                "nộp bổ sung trực tuyến trên trang hồ sơ: {site}/dossiers/{code}/"],
         ["Bản chụp Căn cước công dân", "{site}/dossiers/{code}/"]),
        ("dossier.supplied", "long", ["Giấy tờ bổ sung của hồ sơ {code}"], ["{code}"]),
        ("dossier.received", "long", ["Ngày hẹn trả kết quả: 09/03/2026 10:00."], ["09/03/2026"]),
        ("dossier.transfer", "long", ["bộ phận giải quyết", "Ngày hẹn trả kết quả: 09/03/2026 10:00."], ["{code}"]),
        ("dossier.request_fees", "long", ["- Phí cung cấp thông tin lý lịch tư pháp: 200.000 đồng",
                                          "Tổng số tiền: 200.000 đồng.", "{site}/payments/{code}/"],
         ["200.000 đồng", "{site}/payments/{code}/"]),
        ("dossier.fees_paid", "long", ["đã ghi nhận việc nộp phí", "Ngày hẹn trả kết quả: 09/03/2026 11:00."], ["{code}"]),
        ("dossier.request_withdrawal", "long", ["Yêu cầu rút hồ sơ {code}"], ["{code}"]),
        ("dossier.withdrawal_refused", "long", ["Lý do: Hồ sơ đã được thẩm định xong"],
         ["Lý do: Hồ sơ đã được thẩm định xong"]),
        ("dossier.rescheduled", "long", ["Ngày hẹn trả kết quả mới: 13/03/2026 17:00.", "Lý do: Cần xác minh thêm"],
         ["13/03/2026"]),
        ("dossier.result_ready", "long", ["tải kết quả trên trang hồ sơ: {site}/dossiers/{code}/",
                                          "bộ phận tiếp nhận và trả kết quả"], ["{code}"]),
        ("dossier.delivered", "long", ["đã được trả trực tuyến", "{site}/dossiers/{code}/"], ["{code}"]),
        ("dossier.refuse", "refused", ["- Không thuộc thẩm quyền của Sở", "mẫu 03"],
         ["Lý do: Không thuộc thẩm quyền của Sở"]),
        ("dossier.withdrawn", "withdrawn", ["đồng ý cho rút hồ sơ"], ["{code}"]),
        ("dossier.stopped", "stopped", ["Lý do: Giấy tờ giả mạo", "mẫu 05"], ["Lý do: Giấy tờ giả mạo"]),
        ("payment.refund_requested", "stopped", ["hoàn trả 200.000 đồng", "hồ sơ đã dừng xử lý sau khi phí"],
         ["200.000 đồng", "hồ sơ dừng xử lý"]),
        ("payment.refund_confirmed", "stopped", ["Khoản hoàn trả 200.000 đồng", "đã hoàn tất"], ["200.000 đồng"]),
    ],
    "en": [
        ("dossier.submitted", "long", ["has been sent to", "/dossiers/{code}/"], ["submitted online"]),
        ("dossier.request_supplement", "long", ["- Bản chụp Căn cước công dân",
                                                "The agency's instructions: Chụp rõ hai mặt.",
                                                "Supply them online on the dossier's page: {site}/dossiers/{code}/"],
         ["Bản chụp Căn cước công dân", "{site}/dossiers/{code}/"]),
        ("dossier.supplied", "long", ["The supplement to dossier {code}"], ["Supplement"]),
        ("dossier.received", "long", ["Appointment date for the result: 09/03/2026 10:00."], ["result due 09/03/2026 10:00"]),
        ("dossier.transfer", "long", ["the unit that decides", "Appointment date for the result: 09/03/2026 10:00."],
         ["being processed"]),
        ("dossier.request_fees", "long", ["- Phí cung cấp thông tin lý lịch tư pháp: 200,000 VND",
                                          "Total: 200,000 VND.", "{site}/payments/{code}/"],
         ["200,000 VND", "{site}/payments/{code}/"]),
        ("dossier.fees_paid", "long", ["has recorded the payment", "Appointment date for the result: 09/03/2026 11:00."],
         ["recorded"]),
        ("dossier.request_withdrawal", "long", ["Your request to withdraw dossier {code}"], ["withdraw"]),
        ("dossier.withdrawal_refused", "long", ["Reason: Hồ sơ đã được thẩm định xong"],
         ["Reason: Hồ sơ đã được thẩm định xong"]),
        ("dossier.rescheduled", "long", ["New appointment date for the result: 13/03/2026 17:00.",
                                         "Reason: Cần xác minh thêm"], ["13/03/2026"]),
        ("dossier.result_ready", "long", ["download it on the dossier's page: {site}/dossiers/{code}/",
                                          "reception and result desk"], ["result ready"]),
        ("dossier.delivered", "long", ["has been delivered online", "{site}/dossiers/{code}/"], ["delivered"]),
        ("dossier.refuse", "refused", ["- Không thuộc thẩm quyền của Sở", "form 03"],
         ["Reasons: Không thuộc thẩm quyền của Sở"]),
        ("dossier.withdrawn", "withdrawn", ["has accepted the withdrawal"], ["withdrawn"]),
        ("dossier.stopped", "stopped", ["Reason: Giấy tờ giả mạo", "form 05"], ["Reason: Giấy tờ giả mạo"]),
        ("payment.refund_requested", "stopped", ["is refunding 200,000 VND",
                                                 "the dossier's processing stopped after its fees were paid"],
         ["200,000 VND", "processing stopped"]),
        ("payment.refund_confirmed", "stopped", ["The refund of 200,000 VND", "is complete"], ["200,000 VND"]),
    ],
}


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_applicant_event_gives_one_notice_one_email_and_one_sms_with_its_facts(
        language, reachable_citizen, version, agency, officers, provider, smtp_server, sms_provider, public_url):
    services.set_language(reachable_citizen, language)
    journeys = {"long": the_long_way(reachable_citizen, version, agency, officers),
                "refused": refused(reachable_citizen, version, agency, officers),
                "withdrawn": withdrawn(reachable_citizen, version, agency, officers),
                "stopped": stopped_after_paying_online(reachable_citizen, version, agency, officers, provider)}
    services.run_once()

    expected = FACTS[language]
    assert {event for event, *_ in expected} == set(rules.APPLICANT_EVENTS) | set(rules.REFUND_EVENTS)
    mails = smtp_server.to("hung.citizen@example.org")
    texts_sent = [sms["text"] for sms in sms_provider.to("0912345678")]
    for event, journey, in_email, in_sms in expected:
        code = journeys[journey].code
        (notice,) = Notification.objects.filter(user=reachable_citizen, event_type=event, dossier_code=code)
        messages = [m for m in Message.objects.filter(purpose=event, user=reachable_citizen)
                    if code in m.content()["subject"]]
        assert sorted(m.channel for m in messages) == ["email", "sms"], event
        assert all(m.status == Message.Status.SENT for m in messages), event
        sent = {m.channel: m for m in messages}
        (mail,) = [m for m in mails if m["Subject"] == notice.title]  # as the server got it, every space kept
        body = "\n".join(line.rstrip() for line in mail.get_content().strip().splitlines())
        assert body == notice.body, event
        sms = sent[Message.Channel.SMS].content()["text"]
        assert texts_sent.count(sms) == 1, event  # what the SMS provider received
        for fact in in_email:
            assert fact.format(code=code, site=SITE) in body, (event, fact)
        for fact in in_sms:
            assert fact.format(code=code, site=SITE) in sms, (event, fact)
    # Vietnamese for a Vietnamese reader, English for an English one; nothing else sent, nothing twice.
    subjects = " ".join(m["Subject"] for m in mails)
    assert ("Dossier " in subjects) == (language == "en") and ("Hồ sơ " in subjects) == (language == "vi")
    events = Event.objects.filter(event_type__in=rules.APPLICANT_EVENTS + rules.REFUND_EVENTS)
    assert len(mails) == len(texts_sent) == Notification.objects.filter(user=reachable_citizen).count() == events.count()
    everything = " ".join(m.get_content() for m in mails)
    assert "the way you chose" not in everything and "theo hình thức đã đăng ký" not in everything
