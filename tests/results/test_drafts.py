# ruff: noqa: F811  (fixtures imported from tests/dossiers are parameters of the tests)
"""Dự thảo kết quả → phê duyệt → ký số: while processing steps remain open a processing officer saves a draft result
(unsigned, without a result code, the agency's alone); only once the last step is approved is the result signed and
its code issued, by an officer of the approving step's role; the approver's one action approves and signs, and a
signing that fails leaves the approval standing with a clear retry."""
import datetime as dt
import io

import pytest
from django.test import Client

from egov.dossiers import queries, result_queries, services
from egov.dossiers.models import Attachment, Dossier, Status
from egov.dossiers.result_models import IssuedResult
from egov.kernel import pades, pki
from egov.kernel.models import Event
from tests.dossiers.conftest import (  # noqa: F401
    APPLICANT, birth_registration_at_desk, foreign_desk, make_version, pdf_file, signed_in)
from tests.kernel.conftest import vn
from tests.results.conftest import real_pdf, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def transferred(officers, version):
    dossier = services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                      applicant=APPLICANT, subject=None, form_data={"purpose": "xin việc"}, files=[])
    services.transfer(dossier.pk, officer=officers["desk"])
    return dossier


def up_to_the_last_step(dossier, officers):
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process")
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review")


def text_of(content: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def read(attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()


def post(client, dossier, action, data=None):
    return client.post(f"/backoffice/dossiers/{dossier.code}/{action}/", data or {})


# --- The draft --------------------------------------------------------------------------------------------------------

def test_a_draft_has_no_result_code_and_no_signature(officers, version):
    dossier = transferred(officers, version)
    draft = services.attach_result(dossier.pk, officer=officers["specialist"])  # steps remain open: a draft
    assert draft.kind == Attachment.Kind.DRAFT and draft.component_code == Attachment.DRAFT_GENERATED
    content = read(draft)
    assert pades.inspect(content).problem == "unsigned"
    text = text_of(content)
    assert "DỰ THẢO" in text and "Mã kết quả" not in text and "/verify/" not in text
    assert "cấp cho Đỗ Văn Hùng" in " ".join(text.split())
    assert not IssuedResult.objects.exists() and not Event.objects.filter(event_type="dossier.result_signed").exists()
    assert not dossier.attachments.filter(kind=Attachment.Kind.RESULT).exists()
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING
    record = dossier.transitions.get(form="draft")
    assert record.details == {"generated": True, "attachment": draft.pk, "replaced": []}
    assert record.form_label == "Draft result (unsigned)"
    event = Event.objects.get(event_type="dossier.result_drafted")
    assert event.payload["code"] == dossier.code and event.payload["form"] == "draft"


def test_an_uploaded_draft_is_checked_as_a_result_to_sign_is(officers, version):
    dossier = transferred(officers, version)
    with pytest.raises(services.InvalidInput) as refused:
        services.save_draft_result(dossier.pk, officer=officers["specialist"],
                                   file=upload(b"%PDF-1.4\nnot really\n%%EOF\n"))
    assert "cannot be read" in str(refused.value.message_dict["file"])
    with pytest.raises(services.InvalidInput, match="Only PDF, JPEG and PNG"):
        services.save_draft_result(dossier.pk, officer=officers["specialist"],
                                   file=upload(b"GIF89a not an accepted type", "scan.gif", "image/gif"))
    assert not dossier.attachments.exists() and not dossier.transitions.filter(form="draft").exists()
    uploaded = real_pdf("Draft")
    draft = services.save_draft_result(dossier.pk, officer=officers["specialist"], file=upload(uploaded))
    assert draft.component_code == Attachment.DRAFT_UPLOADED and read(draft) == uploaded  # kept as it is


def test_a_new_draft_replaces_the_previous_one_which_stays_on_the_record(officers, version):
    dossier = transferred(officers, version)
    first = services.save_draft_result(dossier.pk, officer=officers["specialist"], file=upload(real_pdf("first")))
    second = services.save_draft_result(dossier.pk, officer=officers["head"])
    first.refresh_from_db()
    assert first.kind == Attachment.Kind.DRAFT and first.component_code == Attachment.REPLACED_DRAFT
    assert services.current_draft(dossier) == second
    assert dossier.transitions.filter(form="draft").order_by("id").last().details["replaced"] == [first.pk]
    assert not IssuedResult.objects.exists()  # drafts never take a result code


def test_only_a_processing_officer_of_the_agency_drafts_and_only_while_processing(officers, version,
                                                                                foreign_desk):
    dossier = transferred(officers, version)
    with pytest.raises(services.NotAllowed, match="processing unit"):
        services.save_draft_result(dossier.pk, officer=officers["desk"])
    with pytest.raises(services.NotAllowed, match="another agency"):
        services.save_draft_result(dossier.pk, officer=foreign_desk)
    services.stop(dossier.pk, officer=officers["leader"], reason="Hết thẩm quyền")
    with pytest.raises(services.TransitionRefused, match="being processed"):
        services.save_draft_result(dossier.pk, officer=officers["specialist"])


# --- Who signs, and when ----------------------------------------------------------------------------------------------

def test_a_specialist_cannot_sign_before_the_approval_nor_can_the_leader(officers, version):
    dossier = transferred(officers, version)
    services.save_draft_result(dossier.pk, officer=officers["specialist"])
    for officer in ("specialist", "leader"):
        with pytest.raises(services.TransitionRefused, match="only once the last processing step is approved "
                                                             "\\(still open: “Thẩm định hồ sơ”\\)"):
            services.sign_result(dossier.pk, officer=officers[officer])
    up_to_the_last_step(dossier, officers)
    with pytest.raises(services.TransitionRefused, match="still open: “Phê duyệt”"):
        services.sign_result(dossier.pk, officer=officers["specialist"])
    assert not IssuedResult.objects.exists() and not dossier.attachments.filter(kind="result").exists()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROCESSING


def test_after_the_approval_only_the_approving_role_of_the_agency_signs(officers, version, other_agency):
    from tests.dossiers.conftest import _user

    dossier = transferred(officers, version)
    up_to_the_last_step(dossier, officers)
    approved = services.complete_step(dossier.pk, officer=officers["leader"], task_id="approve")
    # Waiting for its signature, the dossier is the approver's: their "Only mine" list holds it.
    assert approved.assignee == officers["leader"] and approved.status == Status.PROCESSING
    assert [row.code for row in queries.inbox(officers["leader"], mine=True).rows] == [dossier.code]
    for officer in ("specialist", "head", "desk"):
        with pytest.raises(services.NotAllowed, match="role that approved the last step \\(Agency leader\\)"):
            services.sign_result(dossier.pk, officer=officers[officer])
        with pytest.raises(services.NotAllowed):
            services.attach_result(dossier.pk, officer=officers[officer])  # the same rule by the other door
    with pytest.raises(services.NotAllowed, match="another agency"):
        services.sign_result(dossier.pk, officer=_user("stranger", "agency_leader", other_agency))
    with pytest.raises(services.TransitionRefused, match="not drafted again"):
        services.save_draft_result(dossier.pk, officer=officers["leader"])
    assert not IssuedResult.objects.exists()
    services.sign_result(dossier.pk, officer=officers["leader"])
    assert IssuedResult.objects.count() == 1


def test_the_final_approval_signs_the_uploaded_draft_as_it_is_and_finishes(officers, version, agency):
    dossier = transferred(officers, version)
    services.save_draft_result(dossier.pk, officer=officers["specialist"], file=upload(real_pdf("first draft")))
    final = real_pdf("Final")  # fpdf stamps the time in the file: the very bytes uploaded are compared
    latest = services.save_draft_result(dossier.pk, officer=officers["specialist"], file=upload(final))
    up_to_the_last_step(dossier, officers)
    dossier = services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve", note="Đồng ý")
    assert dossier.status == Status.RESULT_READY and dossier.finished_at is not None
    result = dossier.attachments.get(kind=Attachment.Kind.RESULT)
    content = read(result)
    assert content.startswith(final)  # the draft as it was uploaded, signed as an incremental update
    checked = result_queries.verify_pdf(content)
    assert checked.valid and checked.signer == agency.name
    issued = IssuedResult.objects.get()
    assert issued.attachment == result and Event.objects.filter(event_type="dossier.result_signed").count() == 1
    signed = dossier.transitions.get(form="result", to_status=Status.PROCESSING)
    assert signed.actor == officers["leader"]
    assert signed.details == {"generated": False, "source": "draft", "draft": latest.pk, "result_code": issued.code}
    assert dossier.steps.get(task_id="approve").note == "Đồng ý"
    assert [t.to_status for t in dossier.transitions.order_by("at", "id") if t.from_status != t.to_status][-1] == 9


def test_a_result_the_applicant_chose_to_receive_online_is_delivered_when_signed(citizen, officers, version, agency):
    dossier = services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                     form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())],
                                     result_delivery="online")
    services.receive(dossier.pk, officer=officers["desk"])
    services.transfer(dossier.pk, officer=officers["desk"])
    services.save_draft_result(dossier.pk, officer=officers["specialist"])
    up_to_the_last_step(dossier, officers)
    dossier = services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve")
    assert dossier.status == Status.DELIVERED and dossier.delivered_at is not None


def test_a_return_keeps_the_draft_which_the_specialist_revises(officers, version):
    dossier = transferred(officers, version)
    draft = services.save_draft_result(dossier.pk, officer=officers["specialist"], file=upload(real_pdf("v1")))
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process")
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review", decision="return",
                           note="Sửa lại mục đích")
    assert services.current_draft(dossier) == draft  # kept through the return
    assert [s.task_id for s in queries.open_steps(dossier)] == ["process"]
    assert "attach-result" in queries.actions_for(officers["specialist"], Dossier.objects.get(pk=dossier.pk))
    second = real_pdf("v2")
    revised = services.save_draft_result(dossier.pk, officer=officers["specialist"], file=upload(second))
    up_to_the_last_step(dossier, officers)
    services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve")
    result = dossier.attachments.get(kind=Attachment.Kind.RESULT)
    assert read(result).startswith(second)
    assert dossier.transitions.get(form="result", to_status=Status.PROCESSING).details["draft"] == revised.pk


def test_without_a_draft_the_template_is_rendered_at_signing_and_without_either_an_upload_is_asked(officers, agency,
                                                                                                  calendar_2026):
    version = make_version(agency)
    dossier = transferred(officers, version)
    up_to_the_last_step(dossier, officers)
    services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve")  # the template, now
    result = Dossier.objects.get(pk=dossier.pk).attachments.get(kind=Attachment.Kind.RESULT)
    text = text_of(read(result))
    assert "cấp cho Đỗ Văn Hùng" in " ".join(text.split()) and "DỰ THẢO" not in text and "Mã kết quả" in text
    assert "Phạm Thị Dung" in text  # the approver who signed, not the officer who drafted

    bare = make_version(agency, code="2.000489")
    bare.result_template = ""
    bare.save()
    dossier = transferred(officers, bare)
    up_to_the_last_step(dossier, officers)
    with pytest.raises(services.InvalidInput, match="no result template"):
        services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve")
    assert Dossier.objects.get(pk=dossier.pk).steps.get(task_id="approve").completed_at is None  # nothing done
    services.complete_step(dossier.pk, officer=officers["leader"], task_id="approve")
    with pytest.raises(services.InvalidInput) as asked:
        services.sign_result(dossier.pk, officer=officers["leader"])
    assert "upload the result" in str(asked.value.message_dict["file"])
    services.sign_result(dossier.pk, officer=officers["leader"], file=upload(real_pdf("Scanned decision")))
    assert Dossier.objects.get(pk=dossier.pk).status == Status.RESULT_READY


def test_a_birth_certificate_drafted_before_the_approval_carries_the_childs_new_number_when_signed(
        officers, agency, calendar_2026):
    dossier = birth_registration_at_desk(
        officers, agency, result_template="Họ tên: {child_full_name}. Số định danh cá nhân: {child_pin}.")
    draft = services.save_draft_result(dossier.pk, officer=officers["specialist"], at=vn("2026-03-02 08:30"))
    assert "Số định danh cá nhân: …" in text_of(read(draft))  # no number before the approval registers the child
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process", at=vn("2026-03-02 09:00"))
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review", at=vn("2026-03-02 09:10"))
    dossier = services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve",
                                        at=vn("2026-03-02 09:30"))
    pin = dossier.subject_person.personal().personal_id_number
    assert dossier.status == Status.RESULT_READY and pin.startswith("079326")
    text = text_of(read(dossier.attachments.get(kind=Attachment.Kind.RESULT)))
    assert f"Số định danh cá nhân: {pin}" in text and "DỰ THẢO" not in text


# --- The back office over HTTP ------------------------------------------------------------------------------------------

def test_the_buttons_say_draft_before_the_decision_and_sign_after_it(officers, version):
    dossier = transferred(officers, version)
    specialist, leader = signed_in(Client(), officers["specialist"]), signed_in(Client(), officers["leader"])
    page = specialist.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert "Save draft result" in page and "Issue the result" not in page and "Sign and issue" not in page
    assert post(specialist, dossier, "attach-result").status_code == 302
    page = specialist.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert "Draft result (unsigned)" in page  # in the files and in the history
    up_to_the_last_step(dossier, officers)
    page = leader.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert 'value="approve-sign"' in page and "Approve and sign the result" in page
    assert post(leader, dossier, "complete-step", {"complete-step-task_id": "approve",
                                                   "complete-step-decision": "approve"}).status_code == 302
    page = leader.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert 'id="awaiting-signature"' in page and 'id="action-sign-result"' in page
    assert "Save draft result" not in page
    page = specialist.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert 'id="action-sign-result"' not in page and 'id="action-attach-result"' not in page
    response = post(leader, dossier, "sign-result")
    assert response.status_code == 302
    assert Dossier.objects.get(pk=dossier.pk).status == Status.RESULT_READY


def test_the_history_tells_the_signing_from_the_result_being_ready(officers, version):
    dossier = transferred(officers, version)
    services.save_draft_result(dossier.pk, officer=officers["specialist"], file=upload(real_pdf("Draft")))
    up_to_the_last_step(dossier, officers)
    services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve")
    code = IssuedResult.objects.get().code
    history = [(t.from_status, t.to_status, t.form_label) for t in queries.history(dossier)]
    assert (Status.PROCESSING, Status.PROCESSING, f"Result signed, code {code}") in history
    assert (Status.PROCESSING, Status.RESULT_READY, "Result") in history
    assert [label for _source, _target, label in history].count("Result") == 1
    page = signed_in(Client(), officers["leader"]).get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert f"Result signed, code {code}" in page


def test_signing_refused_over_http_is_a_clear_answer_never_a_500(officers, version):
    dossier = transferred(officers, version)
    specialist, head, leader = (signed_in(Client(), officers[r]) for r in ("specialist", "head", "leader"))
    early = post(specialist, dossier, "sign-result")
    assert early.status_code == 409
    assert "only once the last processing step is approved" in early.content.decode()
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process")
    not_last = post(head, dossier, "complete-step", {"complete-step-task_id": "review",
                                                     "complete-step-decision": "approve-sign"})
    assert not_last.status_code == 409 and "is for the last processing step" in not_last.content.decode()
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review")
    not_theirs = post(specialist, dossier, "complete-step", {"complete-step-task_id": "approve",
                                                             "complete-step-decision": "approve-sign"})
    assert not_theirs.status_code == 403
    services.complete_step(dossier.pk, officer=officers["leader"], task_id="approve")
    wrong_role = post(head, dossier, "sign-result")
    assert wrong_role.status_code == 403 and "role that approved the last step" in wrong_role.content.decode()
    unreadable = leader.post(f"/backoffice/dossiers/{dossier.code}/sign-result/",
                             {"sign-result-file": upload(b"%PDF-1.4\nnot really\n%%EOF\n")})
    assert unreadable.status_code == 400 and "cannot be signed" in unreadable.content.decode()  # the form again
    assert not IssuedResult.objects.exists()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROCESSING


def test_a_signing_failure_after_the_approval_keeps_the_approval_and_offers_to_sign_again(officers, version,
                                                                                        monkeypatch):
    dossier = transferred(officers, version)
    services.save_draft_result(dossier.pk, officer=officers["specialist"])
    up_to_the_last_step(dossier, officers)
    leader = signed_in(Client(), officers["leader"])

    def unplugged(*args, **kwargs):
        raise pki.SigningUnavailable("the signing token is not plugged in")

    monkeypatch.setattr(pki, "signing_credential", unplugged)
    response = post(leader, dossier, "complete-step", {"complete-step-task_id": "approve",
                                                       "complete-step-decision": "approve-sign"})
    assert response.status_code == 302
    page = leader.get(response["Location"]).content.decode()
    assert "The step is approved, but the result could not be signed" in page
    assert "the signing token is not plugged in" in page and 'id="action-sign-result"' in page
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING and dossier.steps.get(task_id="approve").outcome == "approve"
    assert not IssuedResult.objects.exists() and not dossier.attachments.filter(kind="result").exists()
    assert services.processing_finished(dossier)

    monkeypatch.undo()
    assert post(leader, dossier, "sign-result").status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY and IssuedResult.objects.count() == 1


# --- The applicant never sees a draft -------------------------------------------------------------------------------------

def test_the_applicant_never_sees_a_draft_anywhere(citizen, officers, version, agency):
    from egov.notifications import rules as notification_rules
    from egov.notifications import services as notifications
    from egov.notifications.models import Notification
    from egov.portal.apply_models import StoredDocument

    dossier = services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                     form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())],
                                     at=vn("2026-03-02 08:00"))
    services.receive(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 08:10"))
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 08:20"))
    draft = services.save_draft_result(dossier.pk, officer=officers["specialist"], at=vn("2026-03-02 09:00"))
    browser = signed_in(Client(), citizen)

    page = browser.get(f"/dossiers/{dossier.code}/").content.decode()
    assert f"/files/{draft.pk}/" not in page and "Draft result" not in page
    assert browser.get(f"/dossiers/{dossier.code}/files/{draft.pk}/").status_code == 404
    api = f"/api/govstack/registration/applications/{dossier.uid}"
    application = browser.get(api)
    assert application.status_code == 200
    assert not any(url.endswith(f"/documents/{draft.pk}") for url in
                   application.json()["applicationData"]["documentUrls"])
    assert browser.get(f"{api}/documents/{draft.pk}").status_code == 404
    drafted = Event.objects.get(event_type="dossier.result_drafted")
    assert drafted.event_type not in notification_rules.NOTICE_EVENTS
    notifications.handle_event(drafted)
    assert not Notification.objects.exists()
    from egov.dossiers import applicant_queries

    assert all("result" not in entry.what.lower() for entry in applicant_queries.timeline(dossier))

    # Delivered: the signed result is theirs (page, download, data store), the drafts still are not.
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process", at=vn("2026-03-03 09:00"))
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review", at=vn("2026-03-03 10:00"))
    services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve", at=vn("2026-03-03 11:00"))
    services.deliver(dossier.pk, officer=officers["desk"], method="desk", at=vn("2026-03-04 09:00"))
    result = dossier.attachments.get(kind=Attachment.Kind.RESULT)
    assert browser.get(f"/dossiers/{dossier.code}/files/{result.pk}/").status_code == 200
    assert browser.get(f"/dossiers/{dossier.code}/files/{draft.pk}/").status_code == 404
    assert browser.get(f"{api}/documents/{draft.pk}").status_code == 404
    services.keep_delivered_results(citizen)
    kept = set(StoredDocument.objects.filter(owner=citizen).values_list("attachment_id", flat=True))
    assert result.pk in kept and draft.pk not in kept
    # The agency reads its draft, from the page and through the API.
    desk = signed_in(Client(), officers["desk"])
    assert desk.get(f"/backoffice/dossiers/{dossier.code}/files/{draft.pk}/").status_code == 200


def test_drafts_never_take_a_result_code(officers, version):
    dossier = transferred(officers, version)
    for _ in range(3):
        services.save_draft_result(dossier.pk, officer=officers["specialist"])
    assert not IssuedResult.objects.exists()
    up_to_the_last_step(dossier, officers)
    services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve", at=dt.datetime.now(dt.UTC))
    assert IssuedResult.objects.count() == 1
    assert dossier.attachments.filter(kind=Attachment.Kind.DRAFT).count() == 3
