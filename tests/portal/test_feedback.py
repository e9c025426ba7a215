# ruff: noqa: F811  (fixtures imported from tests/dossiers/conftest.py are used as test arguments)
"""Feedback and complaints (phản ánh, kiến nghị): deadlines in the agency's working days (refuse ≤ 2, ask for more ≤ 5,
answer ≤ 15, publish ≤ 2 after answering) with the instants written out; the whole handling over HTTP; sealed personal
data; the published answers found without diacritics; who may see what (a citizen on the back-office list → 403, an
officer of another agency → 404)."""
import pytest

from egov.kernel.ledger_models import Event
from egov.portal import feedback_queries, feedback_services as services
from egov.portal.feedback_models import Feedback, FeedbackStatus, FeedbackTopic
from tests.dossiers.conftest import (  # noqa: F401  (fixtures)
    APPLICANT, agency, calendar_2026, citizen, english, foreign_desk, officers, other_agency, other_citizen, pdf_file,
    signed_in, version)
from tests.kernel.conftest import vn


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def about_regulation(agency, user=None, at=None, **more):
    arguments = {"full_name": "Trần Văn Bình", "email": "binh@example.org"} if user is None else {}
    arguments.update(more)
    return services.submit(user=user, topic=FeedbackTopic.REGULATION, agency=agency, subject="Thủ tục đăng ký đất đai",
                           text="Thời hạn giải quyết quá dài so với quy định.", at=at or vn("2026-02-13 10:00"),
                           **arguments)


# --- Deadlines -------------------------------------------------------------------------------------------------------

def test_deadlines_count_working_days_across_tet(agency, calendar_2026):
    feedback = about_regulation(agency, at=vn("2026-02-13 10:00"))   # Friday before Tết (closed 14–22 February)
    assert feedback.received_at == vn("2026-02-13 10:00")
    assert feedback.refuse_due == vn("2026-02-24 10:00")       # 2 working days: Fri 5.5 h, Mon 23 8 h, Tue 2.5 h
    assert feedback.more_info_due == vn("2026-02-27 10:00")    # 5 working days
    assert feedback.answer_due == vn("2026-03-13 10:00")       # 15 working days
    assert feedback.publish_due is None


def test_feedback_sent_after_hours_counts_from_the_next_working_morning(agency, calendar_2026):
    feedback = about_regulation(agency, at=vn("2026-02-13 17:45"))
    assert feedback.received_at == vn("2026-02-23 07:30")
    assert feedback.refuse_due == vn("2026-02-24 17:00")


def test_answer_due_counts_again_from_the_reply_and_publish_due_from_the_answer(agency, officers, citizen,
                                                                               calendar_2026):
    feedback = about_regulation(agency, user=citizen, at=vn("2026-03-02 08:00"))
    assert feedback.answer_due == vn("2026-03-23 08:00")       # 15 working days: three weeks
    services.ask_more(feedback.pk, officer=officers["specialist"], question="Hồ sơ nộp ở đâu?",
                      at=vn("2026-03-04 09:00"))
    feedback = services.reply(feedback.pk, user=citizen, text="Tại bộ phận một cửa phường.", at=vn("2026-03-06 14:00"))
    assert feedback.status == FeedbackStatus.ACCEPTED
    assert feedback.answer_due == vn("2026-03-27 14:00")       # 15 working days from the reply
    feedback = services.answer(feedback.pk, officer=officers["specialist"], text="Đã chấn chỉnh.",
                               at=vn("2026-03-10 16:00"))
    assert feedback.publish_due == vn("2026-03-12 16:00")      # 2 working days after answering
    event = Event.objects.get(event_type="feedback.answered")
    assert event.payload["late"] is False and event.partition == agency.code


def test_a_late_decision_is_recorded_as_late(agency, officers, calendar_2026):
    feedback = about_regulation(agency, at=vn("2026-03-02 08:00"))
    services.refuse(feedback.pk, officer=officers["desk"], reason="Không thuộc thẩm quyền.", at=vn("2026-03-05 08:00"))
    assert Event.objects.get(event_type="feedback.refused").payload["late"] is True


def test_overdue_and_near_flags_on_the_agency_list(agency, officers, calendar_2026):
    old = about_regulation(agency, at=vn("2026-03-02 08:00"))
    fresh = about_regulation(agency, at=vn("2026-03-05 08:00"))
    page = feedback_queries.agency_list(officers["desk"], now=vn("2026-03-05 09:00"))
    flags = {row.feedback.pk: row.flag for row in page.rows}
    assert flags == {old.pk: "overdue", fresh.pk: ""}
    page = feedback_queries.agency_list(officers["desk"], now=vn("2026-03-06 10:00"))
    assert {row.feedback.pk: row.flag for row in page.rows}[fresh.pk] == "near_deadline"


# --- Submitting ------------------------------------------------------------------------------------------------------

def test_anonymous_feedback_needs_a_contact_and_keeps_what_was_typed(client, agency, calendar_2026):
    chosen = {"agency": agency.code, "agency_name": agency.name}  # as the picker posts them
    response = client.post("/feedback/", {"topic": "regulation", **chosen, "subject": "Đất đai", "text": "Quá chậm"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter your name, so that the agency can answer you." in page
    assert "Give an email address or a phone number" in page and "Quá chậm" in page
    response = client.post("/feedback/", {"topic": "regulation", **chosen, "subject": "Đất đai",
                                          "text": "Quá chậm", "full_name": "Lê Thị Hoa", "phone": "0903123456"})
    assert response.status_code == 302 and "/feedback/sent/PAKN-" in response["Location"]
    feedback = Feedback.objects.get()
    assert feedback.author is None and feedback.status == FeedbackStatus.SUBMITTED
    assert feedback.content()["contact"] == {"full_name": "Lê Thị Hoa", "email": "", "phone": "0903123456"}
    assert "Hoa" not in feedback.sealed and "0903123456" not in feedback.sealed and "Quá chậm" not in feedback.sealed
    event = Event.objects.get(event_type="feedback.submitted")
    assert "0903123456" not in str(event.payload) and event.payload["reference"] == feedback.reference


def test_feedback_about_a_dossier_goes_to_the_agency_that_received_it(client, citizen, officers, agency, version,
                                                                      media):
    from egov.dossiers import services as dossier_services

    dossier = dossier_services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                             form_data={"purpose": "Du học"}, files=[("to_khai", pdf_file())])
    signed_in(client, citizen)
    unknown = client.post("/feedback/", {"topic": "dossier", "dossier_code": "000.00.12.H29-260101-0042",
                                         "text": "Chưa nhận được kết quả"})
    # Not "no dossier has this code": that would tell which codes exist (tests/portal/test_feedback_dossier_check.py).
    assert unknown.status_code == 400 and "This is not one of your dossiers." in unknown.content.decode()
    sent = client.post("/feedback/", {"topic": "dossier", "dossier_code": dossier.code.lower(),
                                      "text": "Chưa nhận được kết quả"})
    feedback = Feedback.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/feedback/mine/{feedback.reference}/"
    assert feedback.agency == agency and feedback.dossier == dossier and feedback.author == citizen
    page = client.get(sent["Location"]).content.decode()
    assert feedback.reference in page and "Chưa nhận được kết quả" in page


# --- Handling over HTTP, and publishing ------------------------------------------------------------------------------

def test_the_agency_handles_feedback_and_the_published_answer_is_found_without_diacritics(
        client, citizen, officers, agency, calendar_2026):
    feedback = about_regulation(agency, user=citizen)
    desk = signed_in(client, officers["specialist"])
    listing = desk.get("/backoffice/feedback/").content.decode()
    assert feedback.reference in listing
    base = f"/backoffice/feedback/{feedback.reference}/"
    page = desk.get(base).content.decode()
    assert "Thời hạn giải quyết quá dài" in page and "Accept and handle" in page and "Publish the answer" not in page
    assert Event.objects.filter(event_type="feedback.read").count() == 1
    assert desk.post(base + "accept/").status_code == 302
    empty = desk.post(base + "answer/", {"answer-text": ""})
    assert empty.status_code == 400
    assert desk.post(base + "answer/", {"answer-text": "Sở sẽ rút ngắn thời hạn còn 10 ngày."}).status_code == 302
    assert desk.post(base + "refuse/", {"refuse-reason": "Muộn"}).status_code == 409     # answered already
    no_question = desk.post(base + "publish/", {"publish-question": "", "publish-answer": "x"})
    assert no_question.status_code == 400 and "without names" in no_question.content.decode()
    assert desk.post(base + "publish/", {"publish-question": "Thời hạn đăng ký đất đai có quá dài không?",
                                         "publish-answer": "Sở sẽ rút ngắn thời hạn còn 10 ngày."}).status_code == 302
    feedback.refresh_from_db()
    assert feedback.status == FeedbackStatus.PUBLISHED
    assert [e.event_type for e in Event.objects.filter(subject_id=str(feedback.pk)).exclude(
        event_type="feedback.read").order_by("id")] == ["feedback.submitted", "feedback.accepted", "feedback.answered",
                                                        "feedback.published"]

    public = type(client)()
    found = public.get("/feedback/answers/", {"q": "dang ky dat dai"}).content.decode()
    assert "Thời hạn đăng ký đất đai có quá dài không?" in found and "rút ngắn" in found
    assert citizen.get_full_name() not in found
    nothing = public.get("/feedback/answers/", {"q": "ho chieu"}).content.decode()
    assert "No published answer matches your search." in nothing


def test_the_author_replies_when_asked_for_more(client, citizen, other_citizen, officers, agency, calendar_2026):
    feedback = about_regulation(agency, user=citizen)
    services.ask_more(feedback.pk, officer=officers["desk"], question="Anh nộp hồ sơ ngày nào?")
    signed_in(client, citizen)
    page = client.get(f"/feedback/mine/{feedback.reference}/").content.decode()
    assert "Anh nộp hồ sơ ngày nào?" in page and "Reply to the agency" in page
    assert "13/02/2026 10:00</time>" in page  # when it was sent, as every page writes a time (not ISO text)
    assert client.post(f"/feedback/mine/{feedback.reference}/reply/", {"reply-text": ""}).status_code == 400
    assert client.post(f"/feedback/mine/{feedback.reference}/reply/",
                       {"reply-text": "Ngày 2 tháng 3."}).status_code == 302
    assert Feedback.objects.get().status == FeedbackStatus.ACCEPTED
    other = signed_in(type(client)(), other_citizen)
    assert other.get(f"/feedback/mine/{feedback.reference}/").status_code == 404


def test_an_author_without_an_account_answers_through_the_link_sent_to_them(client, officers, agency, calendar_2026):
    feedback = about_regulation(agency, at=vn("2026-03-02 08:00"))          # anonymous, with an email address
    feedback = services.ask_more(feedback.pk, officer=officers["desk"], question="Anh nộp hồ sơ ngày nào?",
                                 at=vn("2026-03-04 09:00"))
    link = f"/feedback/reply/{services.reply_link_token(feedback)}/"
    page = client.get(link)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Anh nộp hồ sơ ngày nào?" in text and feedback.reference in text
    assert "Thời hạn giải quyết quá dài" not in text and "binh@example.org" not in text  # the author's words stay sealed
    empty = client.post(link, {"reply-text": "  "})
    assert empty.status_code == 400 and "Write the information the agency asked for." in empty.content.decode()
    assert client.post(link, {"reply-text": "Ngày 2 tháng 3."}).status_code == 200
    feedback.refresh_from_db()
    assert feedback.status == FeedbackStatus.ACCEPTED
    assert feedback.content()["thread"][-1] == {"at": feedback.content()["thread"][-1]["at"], "by": "author",
                                                "text": "Ngày 2 tháng 3.", "kind": "reply", "channel": "link"}
    assert Event.objects.get(event_type="feedback.more_info_supplied").payload["channel"] == "link"
    used = client.post(link, {"reply-text": "Lần nữa."})             # answered: the link is spent
    assert used.status_code == 410 and "already been answered" in used.content.decode()


def test_a_reply_link_works_only_for_the_latest_question_and_not_once_forged_or_expired(
        client, officers, agency, calendar_2026, settings):
    feedback = about_regulation(agency)
    feedback = services.ask_more(feedback.pk, officer=officers["desk"], question="Ngày nộp?")
    first = services.reply_link_token(feedback)
    feedback = services.reply_by_link(first, text="Ngày 2.")
    feedback = services.ask_more(feedback.pk, officer=officers["desk"], question="Nộp ở đâu?")
    assert client.get(f"/feedback/reply/{first}/").status_code == 410           # for the earlier question
    forged = services.reply_link_token(feedback)[:-3] + "abc"
    refused = client.get(f"/feedback/reply/{forged}/")
    assert refused.status_code == 410 and "not valid" in refused.content.decode()
    latest = services.reply_link_token(feedback)
    assert client.get(f"/feedback/reply/{latest}/").status_code == 200
    settings.SECRET_KEY = "another-key-signs-another-link-" + "x" * 20
    assert client.get(f"/feedback/reply/{latest}/").status_code == 410
    assert Feedback.objects.get().status == FeedbackStatus.MORE_INFO


def test_an_expired_reply_link_says_so(officers, agency, calendar_2026):
    import time

    from django.core import signing

    class SignedLongAgo(signing.TimestampSigner):   # a real signature, made as if sent REPLY_LINK_DAYS + 1 days ago
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - (services.REPLY_LINK_DAYS + 1) * 86400)

    feedback = services.ask_more(about_regulation(agency).pk, officer=officers["desk"], question="Ngày nộp?")
    token = SignedLongAgo(salt=services.REPLY_LINK_SALT).sign_object({"r": feedback.reference, "q": 1})
    with pytest.raises(services.NotAllowed, match="expired"):
        services.reply_by_link(token, text="Ngày 2.")
    assert Feedback.objects.get().status == FeedbackStatus.MORE_INFO


def test_an_officer_records_an_answer_given_by_phone_and_may_answer_without_one(client, officers, agency,
                                                                               calendar_2026):
    feedback = about_regulation(agency, at=vn("2026-03-02 08:00"))
    services.ask_more(feedback.pk, officer=officers["desk"], question="Ngày nộp?", at=vn("2026-03-04 09:00"))
    desk = signed_in(client, officers["specialist"])
    base = f"/backoffice/feedback/{feedback.reference}/"
    page = desk.get(base).content.decode()
    assert "Record the author" in page and 'action="' + base + 'answer/"' in page
    no_channel = desk.post(base + "record-reply/", {"record-reply-text": "Ngày 2 tháng 3."})
    assert no_channel.status_code == 400 and "Say how the author" in no_channel.content.decode()
    assert "Ngày 2 tháng 3." in no_channel.content.decode()                    # what was typed is kept
    assert desk.post(base + "record-reply/", {"record-reply-channel": "phone", "record-reply-text": "Ngày 2 tháng 3."},
                     ).status_code == 302
    feedback.refresh_from_db()
    assert feedback.status == FeedbackStatus.ACCEPTED
    assert feedback.content()["thread"][-1]["channel"] == "phone"
    assert feedback.content()["thread"][-1]["recorded_by"] == officers["specialist"].pk

    silent = about_regulation(agency, at=vn("2026-03-02 08:00"))               # this author never answers
    services.ask_more(silent.pk, officer=officers["desk"], question="Ngày nộp?", at=vn("2026-03-04 09:00"))
    silent = services.answer(silent.pk, officer=officers["desk"], text="Không nhận được thông tin bổ sung; sở trả lời "
                             "theo hồ sơ hiện có.", at=vn("2026-03-20 09:00"))
    assert silent.status == FeedbackStatus.ANSWERED and silent.publish_due is not None


def test_the_authors_page_does_not_show_a_due_date_while_waiting_for_their_reply(client, citizen, officers, agency,
                                                                                  calendar_2026):
    feedback = about_regulation(agency, user=citizen)
    services.ask_more(feedback.pk, officer=officers["desk"], question="Ngày nộp?")
    signed_in(client, citizen)
    page = client.get(f"/feedback/mine/{feedback.reference}/").content.decode()
    assert "Waiting for your reply" in page and feedback.answer_due.strftime("%d/%m/%Y") not in page.split(
        "Answer due by")[1][:200]


# --- Denials ---------------------------------------------------------------------------------------------------------

def test_a_citizen_on_the_backoffice_list_gets_403(client, citizen, agency, calendar_2026):
    feedback = about_regulation(agency)
    signed_in(client, citizen)
    assert client.get("/backoffice/feedback/").status_code == 403
    assert client.get(f"/backoffice/feedback/{feedback.reference}/").status_code == 403
    assert client.post(f"/backoffice/feedback/{feedback.reference}/accept/").status_code == 403
    assert client.post(f"/backoffice/feedback/{feedback.reference}/record-reply/",
                       {"record-reply-channel": "phone", "record-reply-text": "x"}).status_code == 403


def test_an_officer_of_another_agency_gets_404(client, foreign_desk, agency, calendar_2026):
    feedback = about_regulation(agency)
    signed_in(client, foreign_desk)
    assert feedback.reference not in client.get("/backoffice/feedback/").content.decode()
    assert client.get(f"/backoffice/feedback/{feedback.reference}/").status_code == 404
    assert client.post(f"/backoffice/feedback/{feedback.reference}/accept/").status_code == 404
    with pytest.raises(services.NotAllowed):
        services.accept(feedback.pk, officer=foreign_desk)
    assert Feedback.objects.get().status == FeedbackStatus.SUBMITTED
