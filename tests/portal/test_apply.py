# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""Applying online: a multi-step form from the procedure's e-form, drafts kept on the server, files kept when a later
step fails, one dossier per submission key, prefill from the registry, reuse from the citizen's data store."""
import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.accounts.models import AssuranceLevel, Role
from egov.dossiers.models import Attachment, Dossier, Status
from egov.kernel.ledger_models import Event
from egov.portal import apply_services
from egov.portal.apply_models import Draft, DocumentReuse, DraftFile, StoredDocument
from tests.dossiers.conftest import (PDF, PNG, _user, agency, calendar_2026, citizen, english,  # noqa: F401
                                     make_version, officers, other_citizen, pdf_file, signed_in, vn)

BIRTH_SCHEMA = {
    "type": "object",
    "required": ["child_full_name", "child_birth_date", "mother_full_name", "mother_pin", "relationship"],
    "properties": {
        "child_full_name": {"type": "string", "minLength": 2, "maxLength": 100},
        "child_birth_date": {"type": "string", "format": "date"},
        "child_sex": {"type": "string", "enum": ["nam", "nu"]},
        "mother_full_name": {"type": "string", "maxLength": 100},
        "mother_pin": {"type": "string", "pattern": "^\\d{12}$"},
        "copies": {"type": "integer", "minimum": 1, "maximum": 5},
        "relationship": {"type": "string", "enum": ["cha", "me"]},
    },
}
BIRTH_UI = {
    "ui:order": ["child_full_name", "child_birth_date", "child_sex", "mother_full_name", "mother_pin", "copies",
                 "relationship"],
    "child_full_name": {"label": "Child's full name"},
    "child_sex": {"label": "Sex", "widget": "radio", "choices": {"nam": "Male", "nu": "Female"}},
    "mother_pin": {"label": "Mother's ID number", "widget": "pin"},
    "relationship": {"label": "You are the child's", "widget": "select", "choices": {"cha": "Father", "me": "Mother"}},
}
COMPONENTS = [{"code": "TK", "name": "Declaration", "required": True},
              {"code": "GCS", "name": "Birth certificate from the hospital", "required": True},
              {"code": "GCN_KH", "name": "Marriage certificate", "required": False, "result_of": "1.000894"}]

STEP1 = {"form_child_full_name": "Đỗ Minh An", "form_child_birth_date": "02/03/2026", "form_child_sex": "nam",
         "form_mother_full_name": "Đỗ Thị Hà", "form_mother_pin": "079303001234", "form_copies": "2"}


@pytest.fixture
def birth(agency, calendar_2026):  # noqa: F811
    version = make_version(agency, code="1.001193", components=COMPONENTS, ui_schema=BIRTH_UI)
    version.form_schema = BIRTH_SCHEMA
    version.save()
    return version


@pytest.fixture
def mother(db, citizen):  # noqa: F811
    """The citizen, linked to her record in the population registry."""
    from egov.kernel.access import SYSTEM
    from egov.registries import services
    from egov.registries.models import PersonalData

    person = services.register_person(PersonalData(personal_id_number="079303001234", full_name="Đỗ Thị Hà",
                                                   date_of_birth=dt.date(2003, 5, 17), sex="female"), caller=SYSTEM)
    citizen.person = person
    citizen.save()
    return citizen


def start(client, code="1.001193"):
    response = client.post(f"/apply/{code}/")
    assert response.status_code == 302, response.content[:500]
    return Draft.objects.order_by("-id").first(), response["Location"]


def step_url(draft, step):
    return f"/apply/drafts/{draft.uid}/{step}/"


def png(name="photo.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def fill_all(client, draft, *, files=True):
    client.post(step_url(draft, "form-1"), {**STEP1, "continue": "1"})
    client.post(step_url(draft, "form-2"), {"form_relationship": "me", "continue": "1"})
    client.post(step_url(draft, "subject"), {"on_behalf": "0", "continue": "1"})
    if files:
        response = client.post(step_url(draft, "files-required"),
                               {"file_TK": pdf_file(), "file_GCS": png(), "continue": "1"})
        assert response.status_code == 302, response.content.decode()[:3000]


# --- The steps -------------------------------------------------------------------------------------------------------

def test_the_steps_follow_the_eform_then_subject_then_each_group_of_documents(birth):
    assert [s.id for s in apply_services.plan(birth)] == ["form-1", "form-2", "subject", "files-required",
                                                          "files-optional", "review"]
    assert apply_services.plan(birth)[0].names == BIRTH_UI["ui:order"][:6]


def test_a_procedure_without_a_relationship_field_has_no_subject_step(agency, calendar_2026):  # noqa: F811
    version = make_version(agency)
    assert "subject" not in [s.id for s in apply_services.plan(version)]


def test_the_receiving_agencies_to_choose_from_are_in_vietnamese_alphabetical_order(client, mother, birth):
    from egov.registries.models import Agency

    for code, name in (("000.00.19.H29", "Ủy ban nhân dân xã Đông Anh"), ("000.00.18.H29", "Ủy ban nhân dân xã Gia Lâm")):
        birth.agencies.add(Agency.objects.create(code=code, name=name))
    signed_in(client, mother)
    draft, _ = start(client)
    page = client.get(step_url(draft, "form-1")).content.decode()
    names = [name for name in (a.name for a in birth.agencies.all()) if name in page]
    assert len(names) == 3
    # "Đ" is the letter after "D", not after "Z" as in the database's byte order.
    assert sorted(names, key=page.index)[-2:] == ["Ủy ban nhân dân xã Đông Anh", "Ủy ban nhân dân xã Gia Lâm"]


def test_invalid_fields_show_inline_errors_and_keep_everything_entered(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    posted = {**STEP1, "form_child_birth_date": "31/02/2026", "form_mother_pin": "12345", "continue": "1"}
    response = client.post(step_url(draft, "form-1"), posted)
    assert response.status_code == 400
    page = response.content.decode()
    assert "31/02/2026 is not a date that exists: check the day and the month." in page
    assert "Enter the 12 digits of the number." in page
    assert 'value="Đỗ Minh An"' in page and 'value="31/02/2026"' in page and 'value="12345"' in page
    # Kept in the draft too: coming back later shows them.
    page = client.get(step_url(draft, "form-1")).content.decode()
    assert 'value="31/02/2026"' in page and 'value="Đỗ Minh An"' in page


def test_the_eform_questions_from_the_catalogue_are_marked_as_vietnamese_on_an_english_page(client, mother, birth):
    """The catalogue is published in Vietnamese: on an English page its questions and choices carry lang="vi" (a
    screen reader reads them with Vietnamese pronunciation); the platform's own words are not marked."""
    birth.ui_schema = {**BIRTH_UI, "child_full_name": {"label": "Họ, chữ đệm, tên", "help": "Như trên giấy chứng sinh"},
                       "child_sex": {"label": "Giới tính", "widget": "radio", "choices": {"nam": "Nam", "nu": "Nữ"}}}
    birth.save()
    signed_in(client, mother)
    draft, _ = start(client)
    page = client.get(step_url(draft, "form-1")).content.decode()
    assert '<html lang="en"' in page
    assert '<label for="id_form_child_full_name"><span lang="vi">Họ, chữ đệm, tên</span>' in page
    assert '<span lang="vi">Như trên giấy chứng sinh</span>' in page
    assert '<legend><span lang="vi">Giới tính</span></legend>' in page and '<span lang="vi">Nữ</span>' in page
    assert 'id="id_form_mother_pin_helptext">12 digits.</p>' in page  # the platform's own help, in English
    assert '<p class="muted" lang="vi">' in page  # the procedure's name above the step
    fill_all(client, draft)
    review = client.get(step_url(draft, "review")).content.decode()
    assert '<dt lang="vi">Họ, chữ đệm, tên</dt>' in review and '<span lang="vi">Declaration</span>:' in review
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    for step in ("form-1", "review"):
        page = client.get(step_url(draft, step)).content.decode()
        assert '<html lang="vi"' in page and 'lang="vi">' not in page.split("<body", 1)[1]


def test_required_documents_are_asked_for_on_their_step(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft, files=False)
    response = client.post(step_url(draft, "files-required"), {"file_TK": pdf_file(), "continue": "1"})
    assert response.status_code == 400
    assert "Attach this document, or choose one from your data store." in response.content.decode()
    assert DraftFile.objects.filter(draft=draft, component_code="TK").exists()  # the good file is kept


def test_a_wrong_or_oversized_file_is_refused_with_the_reason_and_the_other_files_stay(client, mother, birth,
                                                                                         settings):
    settings.EGOV_ATTACHMENT_MAX_BYTES = 1000
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft, files=False)
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = client.post(step_url(draft, "files-required"), {"file_TK": pdf_file(), "file_GCS": fake,
                                                               "continue": "1"})
    assert response.status_code == 400
    assert "Only PDF, JPEG and PNG files are accepted" in response.content.decode()
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2000, content_type="application/pdf")
    response = client.post(step_url(draft, "files-required"), {"file_GCS": big, "continue": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "files may be at most" in page
    assert "Already uploaded" in page  # the declaration uploaded before stays
    assert set(DraftFile.objects.filter(draft=draft).values_list("component_code", flat=True)) == {"TK"}
    response = client.post(step_url(draft, "files-required"), {"file_GCS": png(), "continue": "1"})
    assert response.status_code == 302 and response["Location"].endswith("/files-optional/")


# --- Drafts ----------------------------------------------------------------------------------------------------------

def test_a_draft_is_resumed_from_a_second_client(client, mother, birth, django_user_model):
    from django.test import Client

    signed_in(client, mother)
    draft, _ = start(client)
    client.post(step_url(draft, "form-1"), {**STEP1, "continue": "1"})
    other_device = signed_in(Client(), mother)
    page = other_device.get("/apply/drafts/").content.decode()
    assert f"/apply/drafts/{draft.uid}/" in page
    response = other_device.get(f"/apply/drafts/{draft.uid}/")
    assert response["Location"] == step_url(draft, "form-2")
    assert 'value="Đỗ Minh An"' in other_device.get(step_url(draft, "form-1")).content.decode()


def test_an_expired_session_keeps_the_draft_and_signing_in_again_resumes_it(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    client.post(step_url(draft, "form-1"), {**STEP1, "continue": "1"})
    client.logout()
    response = client.get(step_url(draft, "form-1"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    signed_in(client, mother)
    assert 'value="Đỗ Minh An"' in client.get(step_url(draft, "form-1")).content.decode()


def test_another_citizens_draft_is_not_found(client, mother, other_citizen, birth):  # noqa: F811
    signed_in(client, mother)
    draft, _ = start(client)
    signed_in(client, other_citizen)
    assert client.get(step_url(draft, "form-1")).status_code == 404
    assert client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key}).status_code == 404
    assert client.get(f"/apply/drafts/{draft.uid}/").status_code == 404


def test_drafts_are_sealed(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    client.post(step_url(draft, "form-1"), {**STEP1, "continue": "1"})
    draft.refresh_from_db()
    assert "Đỗ Minh An" not in draft.sealed and "079303001234" not in draft.sealed
    assert draft.content()["raw"]["child_full_name"] == "Đỗ Minh An"


def test_a_level_1_account_is_told_how_to_reach_level_2(client, birth, db):
    weak = _user("weak", Role.CITIZEN, assurance_level=AssuranceLevel.BASIC)
    signed_in(client, weak)
    response = client.get("/apply/1.001193/")
    assert response.status_code == 403
    assert "/accounts/verify" in response.content.decode()
    assert client.post("/apply/1.001193/").status_code == 403
    assert not Draft.objects.exists()


def test_anonymous_visitors_are_asked_to_sign_in(client, birth):
    response = client.get("/apply/1.001193/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Prefill ---------------------------------------------------------------------------------------------------------

def test_the_applicants_own_record_prefills_the_form_and_the_read_is_logged(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    raw = draft.content()["raw"]
    assert raw["mother_full_name"] == "Đỗ Thị Hà" and raw["mother_pin"] == "079303001234"
    assert "child_full_name" not in raw
    read = Event.objects.filter(event_type="person.read").latest("id")
    assert read.payload["purpose"] == apply_services.PREFILL_PURPOSE
    assert 'value="079303001234"' in client.get(step_url(draft, "form-1")).content.decode()


# --- Submission ------------------------------------------------------------------------------------------------------

def test_submitting_makes_one_dossier_with_its_code_and_the_acknowledgement(client, mother, birth,
                                                                            django_capture_on_commit_callbacks):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    review = client.get(step_url(draft, "review"))
    assert draft.idempotency_key in review.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the draft's files are removed once the dossier commits
        response = client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key, "submit": "1"})
    dossier = Dossier.objects.get()
    assert response["Location"] == f"/apply/done/{dossier.code}/"
    assert dossier.status == Status.SUBMITTED and dossier.applicant == mother
    assert dossier.content()["form"]["child_birth_date"] == "2026-03-02"
    assert dossier.content()["form"]["copies"] == 2
    assert set(dossier.attachments.values_list("component_code", flat=True)) == {"TK", "GCS"}
    page = client.get(response["Location"]).content.decode()
    assert dossier.code in page and "forms/01.pdf" not in page
    assert not DraftFile.objects.filter(draft=draft).exists()  # copied into the dossier
    assert _stored_names(f"drafts/{draft.uid}") == set()
    from django.core.files.storage import default_storage

    assert not default_storage.exists(f"drafts/{draft.uid}")  # nor its empty folder


def test_the_review_asks_how_to_receive_the_result_and_keeps_the_answer(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    review = client.get(step_url(draft, "review")).content.decode()
    assert "How do you want to receive the result?" in review
    assert 'name="result_delivery" id="result_delivery_online" value="online" checked' in review
    client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key, "submit": "1",
                                            "result_delivery": "desk"})
    assert Dossier.objects.get().result_delivery == "desk"


def test_a_double_click_or_a_retry_makes_one_dossier(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    first = client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    again = client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    assert first["Location"] == again["Location"]
    assert Dossier.objects.count() == 1
    # The same key through the service directly (a retry that lost its answer) finds the same dossier.
    draft.refresh_from_db()
    assert apply_services.submit(draft, user=mother, idempotency_key=draft.idempotency_key) == Dossier.objects.get()


def test_a_stale_submission_key_is_refused(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    response = client.post(step_url(draft, "review"), {"idempotency_key": "forged"})
    assert response.status_code == 400 and "out of date" in response.content.decode()
    assert not Dossier.objects.exists()


def test_an_auto_receive_procedure_shows_form_01_and_the_appointment_at_once(client, mother, agency,
                                                                              calendar_2026):  # noqa: F811
    make_version(agency, code="2.000488", auto_receive=True)
    signed_in(client, mother)
    draft, _ = start(client, "2.000488")
    client.post(step_url(draft, "form-1"), {"form_purpose": "Xin việc", "continue": "1"})
    client.post(step_url(draft, "files-required"), {"file_to_khai": pdf_file(), "continue": "1"})
    response = client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    dossier = Dossier.objects.get()
    assert dossier.status == Status.RECEIVED
    page = client.get(response["Location"]).content.decode()
    assert f"/dossiers/{dossier.code}/forms/01.pdf" in page and dossier.appointment_at is not None


def test_applying_on_behalf_of_a_child_records_the_subject(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    response = client.post(step_url(draft, "subject"), {"on_behalf": "1", "continue": "1"})
    assert response.status_code == 400 and "Enter the full name of the person" in response.content.decode()
    client.post(step_url(draft, "subject"), {"on_behalf": "1", "subject_full_name": "Đỗ Minh An",
                                             "subject_date_of_birth": "02/03/2026", "continue": "1"})
    client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    assert Dossier.objects.get().content()["subject"]["full_name"] == "Đỗ Minh An"


# --- The data store --------------------------------------------------------------------------------------------------

def test_filed_documents_are_kept_in_the_data_store(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    documents = StoredDocument.objects.filter(owner=mother)
    assert sorted(documents.values_list("component_code", flat=True)) == ["GCS", "TK"]
    assert "Declaration" not in documents.first().sealed
    page = client.get("/my/documents/").content.decode()
    assert "Declaration" in page and Dossier.objects.get().code in page


def test_a_stored_document_is_offered_and_reused_instead_of_an_upload(client, mother, birth):
    signed_in(client, mother)
    first, _ = start(client)
    fill_all(client, first)
    client.post(step_url(first, "review"), {"idempotency_key": first.idempotency_key})
    stored = StoredDocument.objects.get(owner=mother, component_code="GCS")

    second, _ = start(client)
    assert second.content()["reuse"]["GCS"] == str(stored.uid)  # preselected
    page = client.get(step_url(second, "files-required")).content.decode()
    assert "Use a document from your data store?" in page
    client.post(step_url(second, "form-1"), {**STEP1, "continue": "1"})
    client.post(step_url(second, "form-2"), {"form_relationship": "me", "continue": "1"})
    response = client.post(step_url(second, "files-required"),
                           {"file_TK": pdf_file(), "use_TK": "", "use_GCS": str(stored.uid), "continue": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    client.post(step_url(second, "review"), {"idempotency_key": second.idempotency_key})
    dossier = Dossier.objects.order_by("-id").first()
    reused = dossier.attachments.get(component_code="GCS")
    assert reused.file.name == stored.attachment.file.name and reused.sha256 == stored.attachment.sha256
    assert DocumentReuse.objects.get(dossier=dossier).document == stored
    # One reuse event, about the second dossier (the first one reused nothing).
    reuses = Event.objects.filter(event_type="dossier.document_reused")
    assert list(reuses.values_list("subject_type", "subject_id")) == [("dossiers.dossier", str(dossier.pk))]
    assert StoredDocument.objects.filter(owner=mother, component_code="GCS").count() == 1  # not kept twice


def test_a_delivered_result_is_kept_and_stands_in_for_a_result_of_component(client, mother, birth, agency, officers):
    from egov.dossiers import services

    marriage = make_version(agency, code="1.000894")
    dossier = services.submit_online(applicant_user=mother, procedure_version=marriage, agency=agency,
                                     form_data={"purpose": "Kết hôn"}, files=[("to_khai", pdf_file())],
                                     at=vn("2026-03-02 09:00"))
    Dossier.objects.filter(pk=dossier.pk).update(status=Status.DELIVERED)
    result = Attachment.objects.create(dossier=dossier, kind=Attachment.Kind.RESULT, component_code="result",
                                       file=dossier.attachments.first().file.name, name="Giấy chứng nhận kết hôn.pdf",
                                       content_type="application/pdf", size=10, sha256="0" * 64)
    signed_in(client, mother)
    draft, _ = start(client)
    kept = StoredDocument.objects.get(owner=mother, attachment=result)
    assert kept.kind == "result" and kept.result_of == "1.000894"
    assert draft.content()["reuse"]["GCN_KH"] == str(kept.uid)


def test_someone_elses_stored_document_cannot_be_reused(mother, other_citizen, birth, agency):  # noqa: F811
    from egov.dossiers import services

    theirs = services.submit_online(applicant_user=other_citizen, procedure_version=birth, agency=agency,
                                    form_data={"child_full_name": "Bé", "child_birth_date": "2026-03-02",
                                               "mother_full_name": "X", "mother_pin": "079303001235",
                                               "relationship": "me"},
                                    files=[("TK", pdf_file()), ("GCS", pdf_file())], at=vn("2026-03-02 09:00"))
    document = StoredDocument.objects.get(owner=other_citizen, source_dossier=theirs, component_code="GCS")
    with pytest.raises(services.InvalidInput) as refused:
        services.submit_online(applicant_user=mother, procedure_version=birth, agency=agency,
                               form_data={"child_full_name": "Bé", "child_birth_date": "2026-03-02",
                                          "mother_full_name": "X", "mother_pin": "079303001235",
                                          "relationship": "me"},
                               files=[("TK", pdf_file())], reused={"GCS": document}, at=vn("2026-03-02 09:00"))
    assert "cannot be used" in str(refused.value.message_dict["file_GCS"])


def _stored_names(prefix: str) -> set[str]:
    """Every file under ``prefix`` in the storage, as names relative to it."""
    from django.core.files.storage import default_storage

    def walk(path):
        if not default_storage.exists(path):
            return set()
        directories, files = default_storage.listdir(path)
        return {f"{path}/{name}" for name in files} | {n for d in directories for n in walk(f"{path}/{d}")}

    return walk(prefix)


def test_a_replaced_upload_leaves_only_the_new_file_in_storage(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft, files=False)
    client.post(step_url(draft, "files-required"), {"file_TK": pdf_file(), "file_GCS": png(), "continue": "1"})
    first = DraftFile.objects.get(draft=draft, component_code="TK").file.name
    client.post(step_url(draft, "files-required"), {"file_TK": pdf_file("again.pdf", PDF + b"%again"),
                                                    "continue": "1"})
    kept = DraftFile.objects.filter(draft=draft).values_list("file", flat=True)
    assert first not in kept and _stored_names(f"drafts/{draft.uid}") == set(kept)


def test_a_submission_that_fails_in_its_transaction_leaves_no_file_and_no_row(citizen, agency, calendar_2026):  # noqa: F811
    from egov.dossiers import services as dossier_services

    version = make_version(agency)
    before = _stored_names("dossiers")

    def fail(_dossier):
        raise RuntimeError("the draft could not be linked")

    with pytest.raises(RuntimeError):
        dossier_services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                       form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())],
                                       idempotency_key="k-fails", at=vn("2026-03-02 09:00"), also=fail)
    assert not Dossier.objects.exists() and not Attachment.objects.exists() and not StoredDocument.objects.exists()
    assert _stored_names("dossiers") == before
    # Nothing was taken from the unit's codes of the day either: the next submission is number 1.
    dossier = dossier_services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                             form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())],
                                             idempotency_key="k-next", at=vn("2026-03-02 09:00"))
    assert dossier.code.endswith("-0001")
    assert _stored_names("dossiers") - before == {dossier.attachments.get().file.name}


# --- A newer version of the procedure ------------------------------------------------------------------------------

def next_version(old, **changes):
    """The next version of ``old``'s procedure, in force from today, the same as ``old`` unless ``changes`` say."""
    from django.utils import timezone

    from egov.procedures.models import ProcedureVersion

    fields = {f.name: getattr(old, f.name) for f in ProcedureVersion._meta.concrete_fields
              if f.name not in ("id", "created_at")}
    version = ProcedureVersion.objects.create(**{**fields, "version": old.version + 1,
                                                 "effective_from": timezone.localdate(), **changes})
    version.agencies.set(old.agencies.all())
    return version


def test_a_draft_of_a_replaced_version_moves_to_the_version_in_force_and_is_checked_again(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    newer = next_version(birth)
    response = client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    assert response.status_code == 302 and response["Location"] == step_url(draft, "review")
    assert not Dossier.objects.exists()  # nothing filed under the replaced version
    draft.refresh_from_db()
    assert draft.procedure_version == newer
    assert sorted(DraftFile.objects.filter(draft=draft).values_list("component_code", flat=True)) == ["GCS", "TK"]
    assert "The procedure changed on" in client.get(response["Location"]).content.decode()
    client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    assert Dossier.objects.get().procedure_version == newer


def test_a_moved_draft_goes_back_to_the_first_step_the_new_version_asks_more_of(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    dropped = DraftFile.objects.get(draft=draft, component_code="GCS").file.name
    schema = {**BIRTH_SCHEMA, "required": [*BIRTH_SCHEMA["required"], "child_birth_place"],
              "properties": {**BIRTH_SCHEMA["properties"], "child_birth_place": {"type": "string", "maxLength": 300}}}
    ui = {**BIRTH_UI, "ui:order": [*BIRTH_UI["ui:order"], "child_birth_place"]}  # on the second e-form step
    components = [COMPONENTS[0], {"code": "GBS", "name": "Birth notice", "required": True}]  # GCS no longer asked for
    newer = next_version(birth, form_schema=schema, ui_schema=ui, components=components)
    response = client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    assert response.status_code == 302 and response["Location"] == step_url(draft, "form-2")
    draft.refresh_from_db()
    assert draft.procedure_version == newer and draft.step == "form-2"
    assert draft.content()["raw"]["child_full_name"] == "Đỗ Minh An"  # the answers that still apply are kept
    assert list(DraftFile.objects.filter(draft=draft).values_list("component_code", flat=True)) == ["TK"]
    assert dropped not in _stored_names(f"drafts/{draft.uid}")
    assert not Dossier.objects.exists()


def test_a_draft_is_refused_clearly_when_the_procedure_is_no_longer_offered_online(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    next_version(birth, online_level="none")
    response = client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    assert response.status_code == 400
    assert "This procedure can no longer be applied for online" in response.content.decode()
    draft.refresh_from_db()
    assert draft.procedure_version == birth and not Dossier.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_clicks_at_the_same_instant_make_one_dossier_and_take_one_number(agency, calendar_2026, citizen):  # noqa: F811
    """Six submissions of one draft at once, each on its own connection: the first to commit makes the dossier; the
    others meet the unique key, find it and answer it; the number each one took is rolled back with it (no gap)."""
    import threading

    from django.db import connection

    from egov.dossiers.models import DossierCodeSequence
    from tests.dossiers.conftest import make_version

    if connection.vendor != "postgresql":
        pytest.skip("concurrent submissions need PostgreSQL (SQLite serialises writers)")
    version = make_version(agency, components=[])
    draft = Draft(owner=citizen, procedure_version=version, agency=agency, step="review", idempotency_key="twin-click")
    draft.seal({"raw": {"purpose": "Du học"}, "subject": {}, "reuse": {}})
    draft.save()
    start_together = threading.Barrier(6)
    made, errors = [], []

    def click():
        try:
            mine = Draft.objects.get(pk=draft.pk)
            start_together.wait()
            made.append(apply_services.submit(mine, user=citizen, idempotency_key="twin-click").pk)
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(made) == 6 and len(set(made)) == 1
    assert Dossier.objects.count() == 1 and Draft.objects.get(pk=draft.pk).dossier_id == made[0]
    assert DossierCodeSequence.objects.get().last == 1
    assert Event.objects.filter(event_type="dossier.submitted").count() == 1


# --- What the pages say ----------------------------------------------------------------------------------------------

def test_a_required_document_is_not_labelled_optional_and_an_optional_one_is(client, mother, birth, english):  # noqa: F811
    signed_in(client, mother)
    draft, _ = start(client)
    required = client.get(step_url(draft, "files-required")).content.decode()
    assert '<label for="id_file_TK">Declaration</label>' in required
    assert '<label for="id_file_GCS">Birth certificate from the hospital</label>' in required
    assert "(optional)" not in required
    optional = client.get(step_url(draft, "files-optional")).content.decode()
    assert ('<label for="id_file_GCN_KH">Marriage certificate <span class="optional">(optional)</span></label>'
            in optional)
    # Named once: a document alone is one field, not a group repeating its name.
    assert "<legend>" not in required and optional.count("Marriage certificate") == 1


def test_a_document_with_a_stored_choice_is_a_group_named_once(client, mother, birth, english):  # noqa: F811
    signed_in(client, mother)
    first, _ = start(client)
    fill_all(client, first)
    client.post(step_url(first, "review"), {"idempotency_key": first.idempotency_key})
    second, _ = start(client)
    page = client.get(step_url(second, "files-required")).content.decode()
    assert "<legend>Birth certificate from the hospital</legend>" in page
    assert '<label for="id_file_GCS">Or upload a file</label>' in page
    # The name once as a legend or label (the stored document offered says its name too, with its dossier).
    assert page.count(">Birth certificate from the hospital<") == 1 and "(optional)" not in page


def test_the_error_summary_links_a_radio_group_to_its_first_choice(client, mother, agency, calendar_2026,  # noqa: F811
                                                                   english):
    version = make_version(agency)
    version.form_schema = {"type": "object", "required": ["certificate_type", "purpose"],
                           "properties": {"certificate_type": {"type": "string", "enum": ["1", "2"]},
                                          "purpose": {"type": "string"}}}
    version.ui_schema = {"certificate_type": {"label": "Certificate", "widget": "radio",
                                              "choices": {"1": "No. 1", "2": "No. 2"}}}
    version.save()
    signed_in(client, mother)
    draft, _ = start(client, "2.000488")
    response = client.post(step_url(draft, "form-1"), {"continue": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    summary = page[page.index("error-summary"):page.index("</ul>", page.index("error-summary"))]
    assert '<a href="#id_form_certificate_type_0">Certificate</a>' in summary
    assert 'id="id_form_certificate_type_0"' in page  # the link lands on the first radio
    assert '<a href="#id_form_purpose">' in summary and 'id="id_form_purpose"' in page  # a text field: itself


def test_the_review_shows_the_fees_to_pay_and_their_total(client, mother, birth, english):  # noqa: F811
    birth.fees = [{"code": "LP", "name": "Lệ phí đăng ký khai sinh", "amount": 50000},
                  {"code": "BS", "name": "Phí cấp bản sao", "amount": 1200000}]
    birth.save()
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    page = client.get(step_url(draft, "review")).content.decode()
    fees = page[page.index('id="fees-title"'):page.index("</section>", page.index('id="fees-title"'))]
    assert "Lệ phí đăng ký khai sinh" in fees and ">50.000<" in fees
    assert "Phí cấp bản sao" in fees and ">1.200.000<" in fees
    assert "Total" in fees and "<strong>1.250.000</strong>" in fees and "Amount (VND)" in fees
    assert "No fee." not in page


COPIES_FEE = [{"code": "LP", "name": "Lệ phí đăng ký khai sinh", "amount": 0},
              {"code": "BS", "name": "Phí cấp bản sao trích lục", "amount": 8000, "per": "copies", "unit": "bản",
               "included": 1, "unit_amount": 8000}]


def test_the_fees_to_pay_count_the_copies_the_draft_asks_for(client, mother, birth):  # noqa: F811
    birth.fees = COPIES_FEE
    birth.save()
    signed_in(client, mother)
    draft, _ = start(client)
    client.post(step_url(draft, "form-1"), {**STEP1, "form_copies": "3", "continue": "1"})
    lines, total = apply_services.fees_to_pay(birth, Draft.objects.get(pk=draft.pk).content()["raw"])
    assert [(line["name"], line["amount"]) for line in lines] == [
        ("Lệ phí đăng ký khai sinh", 0), ("Phí cấp bản sao trích lục (3 bản)", 24000)]
    assert total == 24000
    # Before the question is answered (or with an answer that is no number), the fee is at its minimum.
    assert apply_services.fees_to_pay(birth)[1] == 8000
    assert apply_services.fees_to_pay(birth, {"copies": "ba"})[1] == 8000


def test_the_review_shows_the_fee_for_the_copies_asked(client, mother, birth, english):  # noqa: F811
    birth.fees = COPIES_FEE
    birth.save()
    signed_in(client, mother)
    draft, _ = start(client)
    client.post(step_url(draft, "form-1"), {**STEP1, "form_copies": "3", "continue": "1"})
    client.post(step_url(draft, "form-2"), {"form_relationship": "me", "continue": "1"})
    page = client.get(step_url(draft, "review")).content.decode()
    fees = page[page.index('id="fees-title"'):page.index("</section>", page.index('id="fees-title"'))]
    assert "Phí cấp bản sao trích lục (3 bản)" in fees and ">24.000<" in fees
    assert "<strong>24.000</strong>" in fees


def test_the_review_says_when_there_is_no_fee(client, mother, birth, english):  # noqa: F811
    birth.fees = []
    birth.save()
    signed_in(client, mother)
    draft, _ = start(client)
    page = client.get(step_url(draft, "review")).content.decode()
    assert "No fee." in page and "<strong>0</strong>" not in page
