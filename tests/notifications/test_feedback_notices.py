"""Feedback reaches its author (phản ánh, kiến nghị): each step the agency takes, and the author's own sending and
replying, becomes a notice with the reference, what happened, the agency's reason, question or answer, and the due
date of the next step. An author with an account gets the in-app notice, an email and an SMS in their language (the
agency's words only by email and SMS, which are sealed: the in-app notice, stored in clear, links to them); an
anonymous author gets email and/or SMS at the contact they gave, whose opening is a logged read of the feedback."""
import pytest
from django.core.management import call_command

from egov.kernel.ledger_models import ConsumerOffset, Event
from egov.notifications import rules, services
from egov.notifications.models import Message, Notification
from egov.portal import feedback_services as feedback
from egov.portal.feedback_models import FeedbackTopic
from tests.kernel.conftest import vn

SITE = "https://dichvucong.example.gov.vn"
QUESTION = "Ông/bà nộp hồ sơ tại bộ phận một cửa nào, ngày nào?"
REASON = "Nội dung không thuộc thẩm quyền của Sở Tư pháp."
ANSWER = "Sở đã chấn chỉnh bộ phận một cửa; thời hạn giải quyết được thực hiện đúng quy định."


@pytest.fixture
def public_url(settings):
    settings.PUBLIC_URL = SITE


def about_regulation(agency, user=None, at="2026-03-02 08:00", **contact):
    return feedback.submit(user=user, topic=FeedbackTopic.REGULATION, agency=agency, subject="Thủ tục cấp phiếu",
                           text="Thời hạn giải quyết quá dài so với quy định.", at=vn(at), **contact)


def mails_and_sms(smtp_server, sms_provider, email, phone):
    return ([(m["Subject"], m.get_content()) for m in smtp_server.to(email)] if email else [],
            [s["text"] for s in sms_provider.to(phone)] if phone else [])


def reads_by_the_notifier(item) -> int:
    return Event.objects.filter(event_type="feedback.read", subject_id=str(item.pk), actor_kind="notifications").count()


def test_the_author_with_an_account_hears_of_every_step_in_app_by_email_and_by_sms(
        reachable_citizen, agency, officers, calendar_2026, smtp_server, sms_provider, public_url):
    item = about_regulation(agency, user=reachable_citizen)
    feedback.accept(item.pk, officer=officers["desk"], at=vn("2026-03-02 10:00"))
    feedback.ask_more(item.pk, officer=officers["specialist"], question=QUESTION, at=vn("2026-03-03 09:00"))
    feedback.reply(item.pk, user=reachable_citizen, text="Phường Sài Gòn, ngày 20/02.", at=vn("2026-03-04 14:00"))
    feedback.answer(item.pk, officer=officers["specialist"], text=ANSWER, at=vn("2026-03-10 16:00"))
    feedback.publish(item.pk, officer=officers["specialist"], question="Thời hạn giải quyết quá dài?",
                     answer="Sở đã chấn chỉnh.", at=vn("2026-03-11 09:00"))
    events, report = services.run_once()
    assert report.failed == 0

    notices = list(Notification.objects.filter(user=reachable_citizen).order_by("id"))
    assert [n.event_type for n in notices] == [
        "feedback.submitted", "feedback.accepted", "feedback.more_info_requested", "feedback.more_info_supplied",
        "feedback.answered", "feedback.published"]
    assert all(n.feedback_reference == item.reference and not n.dossier_code for n in notices)
    mails, sms = mails_and_sms(smtp_server, sms_provider, "hung.citizen@example.org", "0912345678")
    assert len(mails) == len(sms) == 6
    link = f"{SITE}/feedback/mine/{item.reference}/"
    by_event = {n.event_type: (n, mail, text) for n, mail, text in zip(notices, mails, sms, strict=True)}

    notice, (subject, body), text = by_event["feedback.submitted"]
    assert subject == notice.title == f"Đã nhận phản ánh, kiến nghị {item.reference}"
    assert "chậm nhất ngày 04/03/2026" in body and "trả lời chậm nhất ngày 23/03/2026" in body and link in body
    assert item.reference in text and "23/03/2026" in text

    notice, (subject, body), text = by_event["feedback.accepted"]
    assert "trả lời chậm nhất ngày 23/03/2026" in body and "23/03/2026" in text  # as due at acceptance

    notice, (subject, body), text = by_event["feedback.more_info_requested"]
    assert f"Nội dung đề nghị: {QUESTION}" in body and f"Ông/bà trả lời tại: {link}" in body
    assert QUESTION in text and link in text
    assert QUESTION not in notice.body and link in notice.body  # the in-app notice (in clear) links to it

    notice, (subject, body), text = by_event["feedback.more_info_supplied"]
    assert "trả lời chậm nhất ngày 25/03/2026" in body  # 15 working days from the reply

    notice, (subject, body), text = by_event["feedback.answered"]
    assert ANSWER in body and "chậm nhất ngày 12/03/2026" in body and link in text
    assert ANSWER not in notice.body and f"Xem câu trả lời tại: {link}" in notice.body

    notice, (subject, body), text = by_event["feedback.published"]
    assert f"{SITE}/feedback/answers/" in body

    # The agency's words were opened for the question and the answer only, once each, and the reads are logged.
    assert reads_by_the_notifier(item) == 2
    ConsumerOffset.objects.filter(consumer=services.CONSUMER).update(last_seq=0)  # a replay opens nothing again
    assert services.run_once()[1].sent == 0
    assert reads_by_the_notifier(item) == 2 and Notification.objects.count() == 6


def test_a_refusal_tells_the_reason_in_english_to_an_author_who_chose_english(
        reachable_citizen, agency, officers, calendar_2026, smtp_server, sms_provider, public_url):
    services.set_language(reachable_citizen, "en")
    item = about_regulation(agency, user=reachable_citizen)
    feedback.refuse(item.pk, officer=officers["desk"], reason=REASON, at=vn("2026-03-02 10:00"))
    services.run_once()
    notice = Notification.objects.get(event_type="feedback.refused")
    mails, sms = mails_and_sms(smtp_server, sms_provider, "hung.citizen@example.org", "0912345678")
    assert notice.title == f"Feedback {item.reference} refused" == mails[-1][0]
    assert f"Reason: {REASON}" in mails[-1][1] and f"Reason: {REASON}" in sms[-1]
    assert REASON not in notice.body and f"Read the reason at: {SITE}/feedback/mine/{item.reference}/" in notice.body
    assert mails[0][0] == f"Feedback {item.reference} received"


def test_an_anonymous_author_is_answered_at_the_email_they_gave_and_can_reply_through_the_link(
        client, agency, officers, calendar_2026, smtp_server, sms_provider, public_url):
    item = about_regulation(agency, full_name="Trần Văn Bình", email="binh@example.org")
    feedback.ask_more(item.pk, officer=officers["specialist"], question=QUESTION, at=vn("2026-03-03 09:00"))
    services.run_once()
    assert Notification.objects.count() == 0 and sms_provider.received == []
    (received, asked) = smtp_server.to("binh@example.org")
    assert received["Subject"] == f"Đã nhận phản ánh, kiến nghị {item.reference}"
    assert "Cơ quan sẽ trả lời theo địa chỉ liên hệ ông/bà đã cung cấp." in received.get_content()
    body = asked.get_content()
    assert QUESTION in body and "Trần Văn Bình" not in body
    (link,) = [word for word in body.split() if word.startswith(f"{SITE}/feedback/reply/")]
    page = client.get(link.removeprefix(SITE))
    assert page.status_code == 200 and QUESTION in page.content.decode()
    assert client.post(link.removeprefix(SITE), {"reply-text": "Phường Sài Gòn."}).status_code == 200

    feedback.answer(item.pk, officer=officers["specialist"], text=ANSWER, at=vn("2026-03-10 16:00"))
    services.run_once()
    supplied, answered = smtp_server.to("binh@example.org")[2:]
    assert supplied["Subject"] == f"Đã nhận thông tin bổ sung cho phản ánh, kiến nghị {item.reference}"
    assert ANSWER in answered.get_content()
    # Each message opened the sealed contact, and said so in the feedback's log of reads.
    reads = Event.objects.filter(event_type="feedback.read", subject_id=str(item.pk), actor_kind="notifications")
    assert reads.count() == 4 and {r.payload["purpose"] for r in reads} == {"notify the author"}
    assert all("binh@example.org" not in str(e.payload) for e in Event.objects.all())


def test_an_anonymous_author_reachable_only_by_phone_gets_the_whole_answer_by_sms(
        agency, officers, calendar_2026, smtp_server, sms_provider, public_url):
    item = about_regulation(agency, full_name="Lê Thị Hoa", phone="0903123456")
    long_answer = ANSWER + " " + "Chi tiết: " + "quy trình được rà soát lại từng bước. " * 12
    feedback.answer(item.pk, officer=officers["specialist"], text=long_answer, at=vn("2026-03-05 16:00"))
    services.run_once()
    assert smtp_server.received == []
    submitted, answered = [s["text"] for s in sms_provider.to("0903123456")]
    assert submitted == (f"Đã nhận phản ánh, kiến nghị {item.reference}; Sở Tư pháp Thành phố Hồ Chí Minh trả lời "
                         "chậm nhất ngày 23/03/2026.")
    assert " ".join(long_answer.split()) in answered and item.reference in answered


def test_an_author_with_email_and_phone_gets_an_excerpt_by_sms_and_the_whole_answer_by_email(
        agency, officers, calendar_2026, smtp_server, sms_provider, public_url):
    item = about_regulation(agency, full_name="Lê Thị Hoa", phone="0903123456", email="hoa@example.org")
    long_answer = "Sở đã rà soát. " * 60
    feedback.answer(item.pk, officer=officers["specialist"], text=long_answer, at=vn("2026-03-05 16:00"))
    services.run_once()
    answered_sms = sms_provider.to("0903123456")[-1]["text"]
    assert len(answered_sms) < rules.SMS_EXCERPT + 150 and answered_sms.endswith("(Toàn văn trong email.)")
    assert long_answer.strip() in smtp_server.to("hoa@example.org")[-1].get_content()


def test_a_notice_sent_late_quotes_the_due_date_of_its_event_and_its_own_question(
        reachable_citizen, agency, officers, calendar_2026, smtp_server, sms_provider, public_url):
    item = about_regulation(agency, user=reachable_citizen)
    feedback.accept(item.pk, officer=officers["desk"], at=vn("2026-03-02 10:00"))
    feedback.ask_more(item.pk, officer=officers["specialist"], question="Câu hỏi thứ nhất?", at=vn("2026-03-03 09:00"))
    feedback.reply(item.pk, user=reachable_citizen, text="Trả lời một.", at=vn("2026-03-04 14:00"))
    feedback.ask_more(item.pk, officer=officers["specialist"], question="Câu hỏi thứ hai?", at=vn("2026-03-05 09:00"))
    services.run_once()  # the notifier was down all along: everything at once, after the due date moved
    mails = {m["Subject"]: m.get_content() for m in smtp_server.to("hung.citizen@example.org")}
    accepted = next(body for subject, body in mails.items() if "tiếp nhận xử lý" in subject)
    assert "23/03/2026" in accepted and "25/03/2026" not in accepted
    questions = [body for subject, body in mails.items() if "đề nghị bổ sung" in subject]
    assert len(questions) == 1  # both have the same subject; the SMTP mailbox keeps the last under it
    sent = [m.content()["text"] for m in Message.objects.filter(purpose="feedback.more_info_requested",
                                                                  channel=Message.Channel.EMAIL).order_by("id")]
    assert ["Câu hỏi thứ nhất?" in sent[0], "Câu hỏi thứ hai?" in sent[1]] == [True, True]
    assert "Câu hỏi thứ hai?" not in sent[0]


def test_the_agencys_reads_and_internal_events_tell_the_author_nothing(
        reachable_citizen, agency, officers, calendar_2026, smtp_server, sms_provider):
    item = about_regulation(agency, user=reachable_citizen)
    feedback.log_read(item, reader=officers["desk"], purpose="back office: feedback page")
    call_command("egov_notify", once=True)
    assert list(Notification.objects.values_list("event_type", flat=True)) == ["feedback.submitted"]
    assert Message.objects.count() == 2


def test_an_sms_quotes_the_agencys_words_whole_or_cut_at_a_word_and_ends_as_a_sentence():
    assert rules.sms_excerpt("Hồ sơ nộp ở đâu?", whole=False) == "Hồ sơ nộp ở đâu?"
    assert rules.sms_excerpt("Đã  chấn chỉnh\n bộ phận", whole=True) == "Đã chấn chỉnh bộ phận."
    long_text = "một hai ba, " * 60
    cut = rules.sms_excerpt(long_text, whole=False)
    assert len(cut) <= rules.SMS_EXCERPT + 1 and cut.endswith("ba…")
    assert rules.sms_excerpt(long_text, whole=True) == " ".join(long_text.split()) + "."
