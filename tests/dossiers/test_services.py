"""One-stop services: each legal move by the right actor, the documents issued, and the refusals."""
import threading

import pytest
from django.db import connection

from egov.dossiers import queries, services
from egov.dossiers.models import Attachment, Dossier, Status, Transition
from egov.kernel.ledger_models import Event
from tests.dossiers.conftest import APPLICANT, birth_registration_at_desk, make_version, pdf_file, vn

pytestmark = pytest.mark.django_db


def walk_in(officers, version, at=None, **extra):
    return services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                   applicant=APPLICANT, subject=None, form_data={"purpose": "xin việc"},
                                   files=[("to_khai", pdf_file())], at=at or vn("2026-03-02 08:00"), **extra)


def online(citizen, version, agency, at=None, key=None):
    return services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                  form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())],
                                  idempotency_key=key, at=at or vn("2026-03-02 09:00"))


def test_a_walk_in_dossier_is_received_at_once_with_a_code_and_form_01(officers, version):
    dossier = walk_in(officers, version)
    assert dossier.code == "000.00.12.H29-260302-0001"
    assert dossier.status == Status.RECEIVED
    assert [(t.from_status, t.to_status, t.form) for t in dossier.transitions.all()] == [(None, 2, "01")]
    assert Event.objects.filter(event_type="dossier.received", subject_id=str(dossier.pk)).exists()
    assert dossier.attachments.get().content_type == "application/pdf"


def test_codes_count_per_receiving_unit_and_day(officers, version):
    codes = [walk_in(officers, version, at=vn(f"2026-03-02 0{h}:00")).code for h in (8, 9)]
    codes.append(walk_in(officers, version, at=vn("2026-03-03 08:00")).code)
    assert codes == ["000.00.12.H29-260302-0001", "000.00.12.H29-260302-0002", "000.00.12.H29-260303-0001"]


def test_the_personal_content_is_sealed(officers, version):
    dossier = walk_in(officers, version)
    row = Dossier.objects.filter(pk=dossier.pk).values_list("sealed", flat=True).get()
    assert "Đỗ Văn Hùng" not in row and "036072004321" not in row
    assert Dossier.objects.get(pk=dossier.pk).content()["applicant"]["full_name"] == "Đỗ Văn Hùng"


def test_bad_intake_reports_every_problem_and_stores_nothing(officers, version):
    with pytest.raises(services.InvalidInput) as caught:
        services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                applicant={**APPLICANT, "full_name": " ", "id_number": "12345"}, subject=None,
                                form_data={"copies": 20},
                                files=[("to_khai", pdf_file("scan.pdf", b"just text, not a scan"))],
                                at=vn("2026-03-02 08:00"))
    errors = caught.value.message_dict
    assert set(errors) == {"applicant.full_name", "applicant.id_number", "form.purpose", "form.copies", "file_to_khai"}
    assert Dossier.objects.count() == 0 and Attachment.objects.count() == 0


def test_an_id_number_that_cannot_be_of_someone_born_on_that_day_is_refused_at_the_desk(officers, version):
    import datetime as dt

    born_2026 = {**APPLICANT, "date_of_birth": dt.date(2026, 1, 5)}          # 036072… is of someone born in 1972
    with pytest.raises(services.InvalidInput) as caught:
        services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1, applicant=born_2026,
                                subject=None, form_data={"purpose": "xin việc"}, files=[("to_khai", pdf_file())],
                                at=vn("2026-03-02 08:00"))
    assert set(caught.value.message_dict) == {"applicant.id_number"}
    assert Dossier.objects.count() == 0


def test_a_file_that_is_not_what_its_name_says_is_refused(officers, version):
    fake = pdf_file("to-khai.pdf", b"MZ\x90\x00 this is an executable")
    with pytest.raises(services.InvalidInput, match="Only PDF, JPEG and PNG"):
        services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1, applicant=APPLICANT,
                                subject=None, form_data={"purpose": "xin việc"}, files=[("to_khai", fake)],
                                at=vn("2026-03-02 08:00"))


def test_an_oversized_file_is_refused_with_the_limit(officers, version, settings):
    settings.EGOV_ATTACHMENT_MAX_BYTES = 1000
    with pytest.raises(services.InvalidInput, match="at most"):
        services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1, applicant=APPLICANT,
                                subject=None, form_data={"purpose": "xin việc"},
                                files=[("to_khai", pdf_file(content=b"%PDF-1.4" + b"0" * 2000))],
                                at=vn("2026-03-02 08:00"))


def test_online_submission_waits_for_reception_and_a_retry_makes_one_dossier(citizen, officers, version, agency):
    first = online(citizen, version, agency, key="k-123")
    again = online(citizen, version, agency, key="k-123")
    assert first.pk == again.pk and first.status == Status.SUBMITTED and first.received_at is None
    received = services.receive(first.pk, officer=officers["desk"], at=vn("2026-03-02 10:00"))
    assert received.status == Status.RECEIVED and received.received_at == vn("2026-03-02 10:00")


def test_an_auto_receive_procedure_is_received_at_submission(citizen, agency, calendar_2026):
    version = make_version(agency, auto_receive=True)
    dossier = online(citizen, version, agency)
    assert dossier.status == Status.RECEIVED and dossier.received_at == vn("2026-03-02 09:00")


def test_a_supplement_before_reception_returns_the_dossier_to_submitted(citizen, officers, version, agency):
    dossier = online(citizen, version, agency)
    services.request_supplement(dossier.pk, officer=officers["desk"], missing=["Tờ khai có chữ ký", "Ảnh 4x6"])
    dossier = services.supply(dossier.pk, user=citizen, files=[("to_khai", pdf_file())], note="Đã ký")
    assert dossier.status == Status.SUBMITTED and dossier.supplement_count == 1
    assert dossier.transitions.get(form="02").details == {"missing": ["Tờ khai có chữ ký", "Ảnh 4x6"]}


def test_supplied_papers_that_answer_no_component_keep_the_names_the_applicant_gave_them(citizen, officers, version,
                                                                                          agency):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.dossiers.conftest import PNG

    dossier = online(citizen, version, agency)
    services.request_supplement(dossier.pk, officer=officers["desk"], missing=["Căn cước", "Ảnh 4x6"])
    services.supply(dossier.pk, user=citizen, files=[
        ("", pdf_file("C:\\Giấy tờ\\cccd mặt trước.pdf")), ("", SimpleUploadedFile("ảnh.png", PNG, "image/png")),
        ("", pdf_file(".pdf")), ("to_khai", pdf_file("scan001.pdf"))])
    names = sorted(dossier.attachments.filter(kind=Attachment.Kind.SUPPLEMENT).values_list("name", flat=True))
    assert names == ["Supplementary document.pdf", "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp.pdf", "cccd mặt trước.pdf",
                     "ảnh.png"]


def test_the_whole_road_to_delivery(officers, version):
    dossier = walk_in(officers, version)
    services.transfer(dossier.pk, officer=officers["desk"])
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process")
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review", decision="return", note="Thiếu")
    assert [s.task_id for s in queries.open_steps(dossier)] == ["process"]
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process")
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review")
    dossier = services.complete_step(dossier.pk, officer=officers["leader"], task_id="approve")
    assert dossier.status == Status.PROCESSING  # the process has ended, the result is not signed yet
    actions = queries.actions_for(officers["leader"], dossier)
    assert "sign-result" in actions and "attach-result" not in actions  # no more drafts: the approver signs
    assert "sign-result" not in queries.actions_for(officers["specialist"], dossier)
    services.sign_result(dossier.pk, officer=officers["leader"])
    dossier = services.deliver(dossier.pk, officer=officers["desk"], method="desk")
    assert dossier.status == Status.DELIVERED
    assert [t.to_status for t in dossier.transitions.exclude(from_status=models_same())] == [2, 4, 9, 10]


def models_same():
    from django.db.models import F

    return F("to_status")


def test_only_the_steps_role_completes_it(officers, version):
    dossier = walk_in(officers, version)
    services.transfer(dossier.pk, officer=officers["desk"])
    with pytest.raises(services.NotAllowed, match="specialist"):
        services.complete_step(dossier.pk, officer=officers["head"], task_id="process")
    with pytest.raises(services.TransitionRefused, match="not open"):
        services.complete_step(dossier.pk, officer=officers["leader"], task_id="approve")


def test_another_agencys_officer_cannot_touch_the_dossier(officers, version, foreign_desk):
    dossier = walk_in(officers, version)
    with pytest.raises(services.NotAllowed, match="another agency"):
        services.transfer(dossier.pk, officer=foreign_desk)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.RECEIVED


def test_a_citizen_cannot_act_as_an_officer_or_for_someone_else(citizen, other_citizen, officers, version, agency):
    dossier = online(citizen, version, agency)
    with pytest.raises(services.NotAllowed):
        services.receive(dossier.pk, officer=citizen)
    with pytest.raises(services.NotAllowed, match="applicant"):
        services.request_withdrawal(dossier.pk, user=other_citizen, reason="không cần")


def test_withdrawal_refused_goes_back_and_confirmed_stops(citizen, officers, version, agency):
    dossier = online(citizen, version, agency)
    services.receive(dossier.pk, officer=officers["desk"])
    services.request_withdrawal(dossier.pk, user=citizen, reason="Không cần nữa")
    dossier = services.refuse_withdrawal(dossier.pk, officer=officers["leader"], reason="Đã xử lý gần xong")
    assert dossier.status == Status.RECEIVED
    services.request_withdrawal(dossier.pk, user=citizen, reason="Vẫn muốn rút")
    dossier = services.confirm_withdrawal(dossier.pk, officer=officers["desk"])
    assert dossier.status == Status.STOPPED
    assert dossier.transitions.filter(form="05").exists()


def test_a_dossier_with_its_result_ready_cannot_be_stopped(officers, version):
    dossier = walk_in(officers, version)
    services.transfer(dossier.pk, officer=officers["desk"])
    services.attach_result(dossier.pk, officer=officers["specialist"], file=None)  # a draft
    for officer, task in (("specialist", "process"), ("head", "review"), ("leader", "approve")):
        services.complete_step(dossier.pk, officer=officers[officer], task_id=task)
    services.sign_result(dossier.pk, officer=officers["leader"])
    with pytest.raises(services.TransitionRefused, match="cannot move"):
        services.stop(dossier.pk, officer=officers["leader"], reason="Hết thẩm quyền")
    assert Dossier.objects.get(pk=dossier.pk).status == Status.RESULT_READY


def test_forms_are_rendered_from_what_was_issued(officers, version):
    from pypdf import PdfReader
    import io

    dossier = walk_in(officers, version)
    download = services.form_pdf(dossier, "01", reader=officers["desk"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(download.content)).pages)
    assert dossier.code in text and "Đỗ Văn Hùng" in text
    assert "Nguyễn Văn An" in text  # the desk officer who received it, family name first as Vietnamese is written
    with pytest.raises(services.TransitionRefused, match="02"):
        services.form_pdf(dossier, "02", reader=officers["desk"])
    assert Event.objects.filter(event_type="dossier.read", subject_id=str(dossier.pk)).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_get_codes_without_gaps_or_duplicates(agency, calendar_2026, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers need PostgreSQL (SQLite serialises writers)")
    from tests.dossiers.conftest import _user

    desk = _user("desk.parallel", "desk_officer", agency)
    version = make_version(agency)
    codes, errors = [], []

    def writer(n):
        try:
            for _ in range(n):
                codes.append(services.intake_at_desk(
                    officer=desk, procedure_version=version, channel=1, applicant=APPLICANT, subject=None,
                    form_data={"purpose": "song song"}, files=[], at=vn("2026-03-02 08:00")).code)
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(10,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(codes) == [f"000.00.12.H29-260302-{n:04d}" for n in range(1, 81)]
    assert Transition.objects.count() == 80


def test_approving_a_birth_registration_registers_the_child_in_the_population_registry(officers, agency, calendar_2026):
    dossier = birth_registration_at_desk(
        officers, agency, result_template="Số định danh cá nhân: {child_pin}. Nơi đăng ký: {agency_name}.")
    for officer, task in (("specialist", "process"), ("head", "review"), ("leader", "approve")):
        dossier = services.complete_step(dossier.pk, officer=officers[officer], task_id=task, at=vn("2026-03-02 09:00"))
    child = dossier.subject_person
    assert child is not None and child.personal().full_name == "Đỗ Minh An"
    pin = child.personal().personal_id_number
    assert pin.startswith("079326")  # Hồ Chí Minh City, female born in the 2000s, 2026
    services.attach_result(dossier.pk, officer=officers["leader"], file=None, at=vn("2026-03-02 09:30"))
    from pypdf import PdfReader
    import io

    result = Attachment.objects.get(dossier=dossier, kind=Attachment.Kind.RESULT)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(result.file.read())).pages)
    assert pin in text and "Sở Tư pháp" in text


def test_key_rotation_re_seals_dossiers(settings, officers, version):
    import base64

    from egov.registries.services import key_usage, rotate_keys

    old = "old2026:" + base64.urlsafe_b64encode(b"O" * 32).decode()
    new = "new2027:" + base64.urlsafe_b64encode(b"N" * 32).decode()
    settings.PERSONAL_DATA_KEYS = old
    dossier = walk_in(officers, version)
    settings.PERSONAL_DATA_KEYS = f"{new},{old}"
    rotate_keys(batch_size=10)
    assert key_usage()["new2027"]["dossiers"] == 1
    settings.PERSONAL_DATA_KEYS = new  # the old key is gone: the dossier still opens
    assert Dossier.objects.get(pk=dossier.pk).content()["applicant"]["full_name"] == "Đỗ Văn Hùng"


def test_a_stored_file_that_cannot_be_deleted_is_logged_and_the_others_still_go(caplog):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    gone = default_storage.save("cleanup-test/gone.pdf", ContentFile(b"%PDF"))
    stuck = default_storage.save("cleanup-test/stuck/inside.pdf", ContentFile(b"%PDF"))  # a folder is no file
    services.delete_files(["cleanup-test/stuck", "", gone])
    assert not default_storage.exists(gone) and default_storage.exists(stuck)
    assert "could not delete the stored file cleanup-test/stuck" in caplog.text
    default_storage.delete(stuck)
