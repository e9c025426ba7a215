# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""Tờ khai điện tử: where the catalogue marks a component ``eform``, an online applicant's answers stand for that
declaration. They are not asked to print, sign, scan and upload it; they affirm their answers before submitting; the
desk and the applicant read the declaration rendered from the answers, and form 01 lists it as filed."""
import pytest

from egov.dossiers import services as dossier_services
from egov.dossiers.models import Attachment, Channel, Dossier
from egov.kernel.ledger_models import Event
from egov.portal import apply_services
from tests.dossiers.conftest import (_user, agency, calendar_2026, citizen, english, make_version, officers,  # noqa: F401
                                     other_citizen, pdf_file, signed_in)
from tests.dossiers.test_documents import pdf_text
from tests.portal.test_apply import BIRTH_SCHEMA, BIRTH_UI, COMPONENTS, STEP1, mother, png, start, step_url  # noqa: F401

DECLARED_COMPONENTS = [{**COMPONENTS[0], "eform": True}, *COMPONENTS[1:]]


@pytest.fixture
def birth(agency, calendar_2026):  # noqa: F811
    version = make_version(agency, code="1.001193", components=DECLARED_COMPONENTS, ui_schema=BIRTH_UI)
    version.form_schema = BIRTH_SCHEMA
    version.save()
    return version


def fill(client, draft):
    client.post(step_url(draft, "form-1"), {**STEP1, "continue": "1"})
    client.post(step_url(draft, "form-2"), {"form_relationship": "me", "continue": "1"})
    client.post(step_url(draft, "subject"), {"on_behalf": "0", "continue": "1"})
    response = client.post(step_url(draft, "files-required"), {"file_GCS": png(), "continue": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]


def submit(client, draft, **extra):
    return client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key, "submit": "1", **extra})


def test_the_declaration_is_not_asked_for_as_a_file(birth):
    files = [step for step in apply_services.plan(birth) if step.kind == "files"]
    assert [[c["code"] for c in step.components] for step in files] == [["GCS"], ["GCN_KH"]]


def test_the_procedure_page_says_the_declaration_is_filled_in_online(client, birth, english):
    page = client.get("/procedures/1.001193/").content.decode()
    assert "Applying online, you fill it in on the online form: nothing to print, sign or upload." in page


def test_submitting_needs_the_applicants_affirmation_and_loses_nothing_without_it(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill(client, draft)
    review = client.get(step_url(draft, "review")).content.decode()
    assert "filled in online: your answers above make this declaration, nothing to print or upload" in review
    assert 'name="declared"' in review

    response = submit(client, draft, result_delivery="desk")
    assert response.status_code == 400
    page = response.content.decode()
    assert '<a href="#id_declared">Tick the box to declare that your answers are true' in page
    assert 'aria-describedby="id_declared_error"' in page
    assert not Dossier.objects.exists()
    draft.refresh_from_db()
    assert draft.content()["raw"]["child_full_name"] == "Đỗ Minh An" and draft.files.count() == 1

    response = submit(client, draft, declared="on", result_delivery="desk")
    assert response.status_code == 302, response.content.decode()[:2000]
    dossier = Dossier.objects.get()
    assert not dossier.attachments.filter(component_code="TK").exists()  # nothing uploaded for it
    assert dossier.transitions.get(form="ack").details == {"declared": True}


def test_a_signed_declaration_uploaded_anyway_is_the_declaration(client, mother, birth):
    """A draft that uploaded it before the catalogue marked the component keeps it, and needs no affirmation."""
    signed_in(client, mother)
    draft, _ = start(client)
    fill(client, draft)
    draft.refresh_from_db()
    checked, errors = apply_services.check_uploads(draft, [("TK", pdf_file())])
    assert not errors
    apply_services.save_step(draft, files=checked)
    review = client.get(step_url(draft, "review")).content.decode()
    assert 'name="declared"' not in review
    assert submit(client, draft, result_delivery="desk").status_code == 302
    dossier = Dossier.objects.get()
    assert dossier.attachments.filter(component_code="TK", kind=Attachment.Kind.COMPONENT).exists()
    assert dossier.transitions.get(form="ack").details == {}
    signed_in(client, mother)
    assert client.get(f"/dossiers/{dossier.code}/forms/tk.pdf").status_code == 404


@pytest.fixture
def filed(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill(client, draft)
    assert submit(client, draft, declared="on", result_delivery="desk").status_code == 302
    return Dossier.objects.get()


def test_the_applicant_and_the_desk_read_the_declaration_made_from_the_answers(client, filed, officers, mother):
    page = client.get(f"/dossiers/{filed.code}/").content.decode()
    assert f"/dossiers/{filed.code}/forms/tk.pdf" in page
    assert "Declaration: declaration made from the e-form" in page
    response = client.get(f"/dossiers/{filed.code}/forms/tk.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f'filename="{filed.code}-to-khai.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert "DECLARATION" in text and "(Tờ khai điện tử, nộp trực tuyến)" in text
    # Labelled as the form labels its fields, with the choices' labels and dates as day/month/year.
    assert "Child's full name Đỗ Minh An" in text and "Sex Male" in text and "You are the child's Mother" in text
    assert "02/03/2026" in text
    assert "Người khai đã cam đoan những nội dung khai trên đây là đúng sự thật" in text
    assert Event.objects.filter(event_type="dossier.read", payload__purpose="form tk").exists()

    signed_in(client, officers["desk"])
    page = client.get(f"/backoffice/dossiers/{filed.code}/").content.decode()
    assert f"/backoffice/dossiers/{filed.code}/forms/tk.pdf" in page
    assert client.get(f"/backoffice/dossiers/{filed.code}/forms/tk.pdf").status_code == 200


def test_no_one_else_reads_the_declaration(client, filed, other_citizen):
    signed_in(client, other_citizen)
    assert client.get(f"/dossiers/{filed.code}/forms/tk.pdf").status_code == 404
    client.logout()
    response = client.get(f"/dossiers/{filed.code}/forms/tk.pdf")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_form_01_lists_the_declaration_as_filed_online(filed, officers):
    dossier_services.receive(filed.pk, officer=officers["desk"])
    filed.refresh_from_db()
    text = pdf_text(dossier_services.form_pdf(filed, "01", reader=officers["desk"]).content)
    assert "1. Declaration (Đã nộp, tờ khai điện tử) 2. Birth certificate from the hospital (Đã nộp)" in text


def test_a_dossier_filed_at_the_desk_has_no_declaration_made_from_answers(client, officers, birth):
    """At the desk the applicant files the signed paper declaration like any other component."""
    dossier = dossier_services.intake_at_desk(
        officer=officers["desk"], procedure_version=birth, channel=Channel.IN_PERSON,
        applicant={"full_name": "Lê Văn Tám", "id_number": "079090001111"}, subject=None,
        form_data={"child_full_name": "Lê Minh", "child_birth_date": "2026-03-02", "mother_full_name": "Lê Thị Ba",
                   "mother_pin": "079303001235", "relationship": "me"},
        files=[("TK", pdf_file()), ("GCS", pdf_file())])
    signed_in(client, officers["desk"])
    assert client.get(f"/backoffice/dossiers/{dossier.code}/forms/tk.pdf").status_code == 404
    page = client.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert "forms/tk.pdf" not in page
    assert "Child&#x27;s full name" in page and "Mother" in page  # the answers labelled, the choice named
