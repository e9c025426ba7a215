"""A notice says what the applicant must act on, as it stood at the event: the missing items of a supplement request
and how to supply them (form 02), the fees due and how to pay them, the reasons of a refusal (form 03), of a stop
(form 05) and of a refused withdrawal; the appointment date of the event, not one set later (a notice sent after a
backlog); where the result is obtained, as the platform does it."""
import datetime as dt

import pytest

from egov.dossiers import services as dossiers
from egov.kernel import ledger
from egov.kernel.ledger_models import Event
from egov.notifications import services
from egov.notifications.models import Message, Notification
from tests.dossiers.conftest import APPLICANT, pdf_file
from tests.kernel.conftest import vn
from tests.notifications.test_dossier_notices import received

SITE = "https://dichvucong.example.gov.vn"


@pytest.fixture
def public_url(settings):
    settings.PUBLIC_URL = SITE


def walk_in(officers, version, at="2026-03-02 10:00"):
    return dossiers.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                   applicant=dict(APPLICANT), subject=None, form_data={"purpose": "xin việc"},
                                   files=[("to_khai", pdf_file())], at=vn(at))


def processing(dossier, officers, at="2026-03-02 11:00"):
    return dossiers.transfer(dossier.pk, officer=officers["desk"], at=vn(at))


def sent(event_type: str, channel=Message.Channel.EMAIL) -> list[str]:
    """What was sent for ``event_type`` on ``channel``, oldest first (the outbox keeps it, sealed)."""
    return [m.content()["text"] for m in Message.objects.filter(purpose=event_type, channel=channel).order_by("id")]


# --- What to act on --------------------------------------------------------------------------------------------------

def test_a_supplement_request_lists_every_missing_item_and_where_to_supply_them(
        reachable_citizen, version, agency, officers, smtp_server, sms_provider, public_url):
    dossier = received(reachable_citizen, version, agency, officers)
    processing(dossier, officers)
    dossiers.request_supplement(dossier.pk, officer=officers["specialist"],
                                missing=["Bản sao giấy khai sinh", "Ảnh 4x6 chụp trong 6 tháng"],
                                note="Nộp bản sao có chứng thực.", at=vn("2026-03-03 09:00"))
    services.run_once()
    notice = Notification.objects.get(event_type="dossier.request_supplement")
    for text in (notice.body, sent("dossier.request_supplement")[0]):
        assert "- Bản sao giấy khai sinh\n- Ảnh 4x6 chụp trong 6 tháng" in text
        assert "Hướng dẫn của cơ quan: Nộp bản sao có chứng thực." in text
        assert f"nộp bổ sung trực tuyến trên trang hồ sơ: {SITE}/dossiers/{dossier.code}/" in text
    assert sent("dossier.request_supplement", Message.Channel.SMS) == [
        f"Hồ sơ {dossier.code} cần bổ sung: Bản sao giấy khai sinh; Ảnh 4x6 chụp trong 6 tháng. Nộp bổ sung tại: "
        f"{SITE}/dossiers/{dossier.code}/"]


def test_a_walk_in_is_told_to_bring_the_missing_items_to_the_desk_in_office_hours(officers, version, smtp_server,
                                                                                    sms_provider):
    dossier = walk_in(officers, version)
    processing(dossier, officers)
    dossiers.request_supplement(dossier.pk, officer=officers["specialist"], missing=["Bản sao giấy khai sinh"],
                                at=vn("2026-03-03 09:00"))
    services.run_once()
    (body,) = sent("dossier.request_supplement")
    assert "- Bản sao giấy khai sinh" in body and "/dossiers/" not in body
    assert ("nộp giấy tờ bổ sung tại bộ phận tiếp nhận và trả kết quả của Sở Tư pháp Thành phố Hồ Chí Minh "
            "(giờ làm việc 07:30–11:30, 13:00–17:00)") in body
    assert smtp_server.to("hung@example.org")[-1]["Subject"] == f"Hồ sơ {dossier.code} cần bổ sung giấy tờ"


def test_fees_due_quote_the_total_and_the_pay_page_at_the_sites_public_address(
        reachable_citizen, version, agency, officers, smtp_server, sms_provider, public_url):
    dossier = received(reachable_citizen, version, agency, officers)
    processing(dossier, officers)
    dossiers.request_fees(dossier.pk, officer=officers["specialist"], at=vn("2026-03-03 09:00"))
    services.set_language(reachable_citizen, "en")
    services.run_once()
    notice = Notification.objects.get(event_type="dossier.request_fees")
    assert notice.title == f"Dossier {dossier.code}: fees due, 200,000 VND"
    assert "Total: 200,000 VND." in notice.body
    assert f"Pay online (VietQR bank transfer or the payment gateway) at: {SITE}/payments/{dossier.code}/" in notice.body
    assert sent("dossier.request_fees", Message.Channel.SMS) == [
        f"Dossier {dossier.code}: fees due, 200,000 VND. Pay at: {SITE}/payments/{dossier.code}/"]


def test_a_walk_in_is_told_how_to_pay_without_an_account(officers, version, smtp_server, sms_provider, settings):
    dossier = walk_in(officers, version)
    processing(dossier, officers)
    dossiers.request_fees(dossier.pk, officer=officers["specialist"], at=vn("2026-03-03 09:00"))
    services.run_once()
    (body,) = sent("dossier.request_fees")
    assert "Tổng số tiền: 200.000 đồng." in body and "/payments/" not in body
    assert (f"hoặc chuyển khoản đến tài khoản {settings.PAYMENT_BANK_ACCOUNT} ({settings.PAYMENT_BANK_ACCOUNT_NAME}) "
            f'với nội dung "NOP PHI HS {dossier.code}"') in body


def test_a_refusal_quotes_every_reason_of_form_03(reachable_citizen, version, agency, officers, smtp_server,
                                                  sms_provider):
    from tests.notifications.test_dossier_notices import online

    dossier = online(reachable_citizen, version, agency)
    dossiers.refuse(dossier.pk, officer=officers["desk"], reasons=["Không thuộc thẩm quyền", "Thiếu tờ khai"],
                    at=vn("2026-03-02 10:00"))
    services.run_once()
    body = Notification.objects.get(event_type="dossier.refuse").body
    assert "Lý do:\n- Không thuộc thẩm quyền\n- Thiếu tờ khai" in body
    assert sent("dossier.refuse", Message.Channel.SMS) == [
        f"Hồ sơ {dossier.code} không được tiếp nhận. Lý do: Không thuộc thẩm quyền; Thiếu tờ khai."]


def test_a_stop_quotes_its_legal_reason(officers, version, smtp_server, sms_provider):
    kept = walk_in(officers, version)
    processing(kept, officers)
    dossiers.stop(kept.pk, officer=officers["head"], reason="Người nộp không đủ điều kiện theo Điều 7",
                  at=vn("2026-03-03 09:00"))
    services.run_once()
    (body,) = sent("dossier.stopped")
    assert "Lý do: Người nộp không đủ điều kiện theo Điều 7" in body
    assert sent("dossier.stopped", Message.Channel.SMS)[0].endswith("Lý do: Người nộp không đủ điều kiện theo Điều 7")


def test_a_refused_withdrawal_quotes_its_reason(reachable_citizen, version, agency, officers, smtp_server,
                                                sms_provider):
    dossier = received(reachable_citizen, version, agency, officers)
    dossiers.request_withdrawal(dossier.pk, user=reachable_citizen, reason="Đổi ý", at=vn("2026-03-02 11:00"))
    dossiers.refuse_withdrawal(dossier.pk, officer=officers["desk"], reason="Đã có kết quả thẩm định",
                               at=vn("2026-03-02 14:00"))
    services.run_once()
    body = Notification.objects.get(event_type="dossier.withdrawal_refused").body
    assert "Lý do: Đã có kết quả thẩm định" in body and "Đổi ý" not in body


def test_an_event_written_before_payloads_named_its_document_quotes_the_latest_of_its_kind(
        reachable_citizen, version, agency, officers, smtp_server, sms_provider):
    dossier = received(reachable_citizen, version, agency, officers)
    processing(dossier, officers)
    dossiers.request_supplement(dossier.pk, officer=officers["specialist"], missing=["Bản sao giấy khai sinh"],
                                at=vn("2026-03-03 09:00"))
    services.run_once()
    ledger.append("dossier.request_supplement", partition=agency.code, actor=officers["specialist"], subject=dossier,
                  payload={"code": dossier.code, "status": 5, "from": 4, "to": 5, "form": "02"})  # the old shape
    services.run_once()
    old, new = Notification.objects.filter(event_type="dossier.request_supplement").order_by("id")
    assert "- Bản sao giấy khai sinh" in old.body and "- Bản sao giấy khai sinh" in new.body


# --- The appointment date of the event ------------------------------------------------------------------------------

def test_a_received_notice_sent_after_a_backlog_quotes_the_date_given_at_reception(
        reachable_citizen, version, agency, officers, smtp_server, sms_provider):
    dossier = received(reachable_citizen, version, agency, officers)   # appointment 09/03/2026
    processing(dossier, officers)
    dossiers.apologise(dossier.pk, officer=officers["head"], new_appointment_at=vn("2026-03-13 17:00"),
                       reason="Cần xác minh thêm", at=vn("2026-03-04 09:00"))
    services.run_once()   # the notifier was down until now
    titles = dict(Notification.objects.values_list("event_type", "title"))
    assert titles["dossier.received"] == f"Hồ sơ {dossier.code} đã được tiếp nhận, hẹn trả kết quả 09/03/2026 10:00"
    assert "Ngày hẹn trả kết quả: 09/03/2026 10:00." in Notification.objects.get(event_type="dossier.transfer").body
    assert titles["dossier.rescheduled"].endswith("hẹn lại ngày trả kết quả 13/03/2026 17:00")
    event = Event.objects.get(event_type="dossier.received")
    assert dt.datetime.fromisoformat(event.payload["appointment"]) == vn("2026-03-09 10:00")


def test_the_return_of_a_supplement_quotes_the_date_the_pause_moved_it_to(
        reachable_citizen, version, agency, officers, smtp_server, sms_provider):
    dossier = received(reachable_citizen, version, agency, officers)   # 02/03 10:00 → 09/03/2026 10:00
    processing(dossier, officers)
    dossiers.request_supplement(dossier.pk, officer=officers["specialist"], missing=["Ảnh 4x6"],
                                at=vn("2026-03-03 10:00"))
    dossiers.supply(dossier.pk, user=reachable_citizen, files=[("cccd", pdf_file("anh.pdf"))],
                    at=vn("2026-03-05 10:00"))  # two working days waiting: the date moves two days
    dossiers.apologise(dossier.pk, officer=officers["head"], new_appointment_at=vn("2026-03-20 17:00"),
                       reason="Cần xác minh thêm", at=vn("2026-03-06 09:00"))
    services.run_once()
    assert "Ngày hẹn trả kết quả: 11/03/2026 10:00." in Notification.objects.get(event_type="dossier.supplied").body


def test_an_event_written_before_payloads_carried_the_date_quotes_the_dossiers(
        reachable_citizen, version, agency, officers, smtp_server, sms_provider):
    dossier = received(reachable_citizen, version, agency, officers)
    services.run_once()
    ledger.append("dossier.transfer", partition=agency.code, actor=officers["desk"], subject=dossier,
                  payload={"code": dossier.code, "status": 4, "from": 2, "to": 4, "form": "06"})  # the old shape
    services.run_once()
    assert "Ngày hẹn trả kết quả: 09/03/2026 10:00." in Notification.objects.get(event_type="dossier.transfer").body


# --- Where the result is obtained -----------------------------------------------------------------------------------

def decided(dossier, officers):
    dossiers.complete_step(dossier.pk, officer=officers["specialist"], task_id="process", at=vn("2026-03-03 09:00"))
    dossiers.complete_step(dossier.pk, officer=officers["head"], task_id="review", at=vn("2026-03-03 10:00"))
    dossiers.complete_step(dossier.pk, officer=officers["leader"], task_id="approve", at=vn("2026-03-03 11:00"))
    dossiers.attach_result(dossier.pk, officer=officers["leader"], file=None, at=vn("2026-03-03 11:30"))


def test_result_ready_says_where_the_result_is_obtained(reachable_citizen, version, agency, officers, smtp_server,
                                                        sms_provider, public_url):
    online_one = received(reachable_citizen, version, agency, officers)
    processing(online_one, officers)
    decided(online_one, officers)
    desk_one = walk_in(officers, version)
    processing(desk_one, officers)
    decided(desk_one, officers)
    services.run_once()
    account, walk_in_text = sent("dossier.result_ready")
    assert (f"Khi Sở Tư pháp Thành phố Hồ Chí Minh trả kết quả, ông/bà tải kết quả trên trang hồ sơ: "
            f"{SITE}/dossiers/{online_one.code}/.") in account
    assert "cũng có thể nhận kết quả tại bộ phận tiếp nhận và trả kết quả" in account
    assert ("Mời ông/bà nhận kết quả tại bộ phận tiếp nhận và trả kết quả của Sở Tư pháp Thành phố Hồ Chí Minh "
            "(giờ làm việc 07:30–11:30, 13:00–17:00), mang theo giấy tiếp nhận hồ sơ và hẹn trả kết quả (mẫu 01).") \
        in walk_in_text
    assert "/dossiers/" not in walk_in_text
    for text in (account, walk_in_text):
        assert "hình thức đã đăng ký" not in text


def test_a_result_chosen_online_is_announced_once_delivered_with_its_download_link(
        reachable_citizen, version, agency, officers, smtp_server, sms_provider, public_url):
    dossier = dossiers.submit_online(applicant_user=reachable_citizen, procedure_version=version, agency=agency,
                                     form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())],
                                     result_delivery="online", at=vn("2026-03-02 09:00"))
    dossiers.receive(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 10:00"))
    processing(dossier, officers)
    decided(dossier, officers)
    services.run_once()
    assert sent("dossier.result_ready") == []                 # delivered in the same moment: one notice, not two
    (delivered,) = sent("dossier.delivered")
    assert "trực tuyến" in delivered and f"{SITE}/dossiers/{dossier.code}/" in delivered
