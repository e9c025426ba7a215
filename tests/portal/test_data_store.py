# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""The citizen's electronic data store (kho dữ liệu điện tử, Circular 01/2023): a stored paper stands in only for the
same paper (the same component of the same procedure, or a result named by ``result_of``); every document the
applicant files reaches their store (online, in a supplement, at the desk or by post), and a delivered result is kept
when it is delivered."""
import datetime as dt
import importlib
import types

import pytest
from django.core.management import call_command
from django.db import connection

from egov.dossiers import services
from egov.dossiers.models import Attachment, Status
from egov.portal import apply_services
from egov.portal.apply_models import DocumentReuse, StoredDocument
from tests.dossiers.conftest import (APPLICANT, agency, calendar_2026, citizen, english, make_version,  # noqa: F401
                                     officers, other_citizen, pdf_file, signed_in, vn)
from tests.portal.test_apply import mother  # noqa: F401

# The demo catalogue's codes: DON is the building-permit application in 1.009994 and the practising-licence
# application in 1.012267.
BUILDING_PERMIT = [{"code": "DON", "name": "Đơn đề nghị cấp giấy phép xây dựng", "required": True},
                   {"code": "QSDD", "name": "Giấy tờ hợp pháp về quyền sử dụng đất", "required": False}]
PRACTISING_LICENCE = [{"code": "DON", "name": "Đơn đề nghị cấp giấy phép hành nghề", "required": True},
                      {"code": "LLTP", "name": "Phiếu lý lịch tư pháp", "required": False, "result_of": "2.000488"}]
FORM = {"purpose": "xây nhà ở riêng lẻ"}
HER_PIN = "079303001234"  # the mother's personal ID number (tests/portal/test_apply.py)
HER = {**APPLICANT, "full_name": "Đỗ Thị Hà", "id_number": HER_PIN, "date_of_birth": dt.date(2003, 3, 15)}


@pytest.fixture
def building(agency, calendar_2026):
    return make_version(agency, code="1.009994", components=BUILDING_PERMIT)


@pytest.fixture
def licence(agency, calendar_2026):
    return make_version(agency, code="1.012267", components=PRACTISING_LICENCE)


def file_online(user, version, agency, files, at="2026-03-02 09:00", reused=None):
    return services.submit_online(applicant_user=user, procedure_version=version, agency=agency, form_data=FORM,
                                  files=files, reused=reused, at=vn(at))


def deliver(dossier, officers, at):
    """Receive, process, sign the result and deliver it at ``at`` (Vietnam time)."""
    services.receive(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 10:00"))
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 10:30"))
    services.attach_result(dossier.pk, officer=officers["specialist"], file=None, at=vn("2026-03-03 09:00"))
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process", at=vn("2026-03-03 09:00"))
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review", at=vn("2026-03-03 09:00"))
    services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve", at=vn("2026-03-03 09:00"))
    return services.deliver(dossier.pk, officer=officers["desk"], method="online", at=vn(at))


# --- A stored paper stands in only for the same paper ------------------------------------------------------------------

def test_a_paper_filed_for_one_procedure_is_not_offered_for_another_that_uses_the_same_code(mother, building,
                                                                                              licence, agency):
    file_online(mother, building, agency, [("DON", pdf_file())])
    assert apply_services.stored_documents_for(mother, licence) == {}
    draft = apply_services.start_draft(mother, licence)
    assert draft.content()["reuse"] == {}  # nothing preselected for the licence application


def test_a_paper_filed_for_one_procedure_cannot_be_filed_for_another_that_uses_the_same_code(mother, building,
                                                                                               licence, agency):
    file_online(mother, building, agency, [("DON", pdf_file())])
    building_application = StoredDocument.objects.get(owner=mother, component_code="DON")
    with pytest.raises(services.InvalidInput) as refused:
        file_online(mother, licence, agency, [], reused={"DON": building_application})
    assert refused.value.message_dict["file_DON"] == ["This stored document cannot be used for this component."]
    assert not DocumentReuse.objects.exists()


def test_a_paper_is_offered_and_reused_for_the_same_component_of_the_same_procedure(mother, building, agency):
    first = file_online(mother, building, agency, [("DON", pdf_file())])
    application = StoredDocument.objects.get(owner=mother, source_dossier=first, component_code="DON")
    assert application.procedure_code == "1.009994"
    assert apply_services.stored_documents_for(mother, building)["DON"] == [application]
    second = file_online(mother, building, agency, [], reused={"DON": application}, at="2026-03-03 09:00")
    assert DocumentReuse.objects.get(dossier=second).document == application


def test_a_result_stands_in_for_a_component_of_another_procedure_that_names_it(mother, agency, licence, officers):
    record = make_version(agency, code="2.000488")
    extract = deliver(file_online(mother, record, agency, [("to_khai", pdf_file())]), officers, "2026-03-05 10:00")
    apply_services.keep_delivered()
    result = StoredDocument.objects.get(owner=mother, kind="result")
    assert result.source_dossier == extract and result.result_of == "2.000488"
    assert apply_services.stored_documents_for(mother, licence) == {"LLTP": [result]}


def test_the_newest_three_papers_of_the_procedure_are_offered_newest_first_among_many_of_other_procedures(
        mother, building, licence, agency):
    filed = []
    for day in range(2, 7):  # a business filing often: five building permits and five licences, interleaved
        filed.append(file_online(mother, building, agency, [("DON", pdf_file())], at=f"2026-03-0{day} 09:00"))
        file_online(mother, licence, agency, [("DON", pdf_file())], at=f"2026-03-0{day} 10:00")
    offered = apply_services.stored_documents_for(mother, building)["DON"]
    assert [document.source_dossier for document in offered] == filed[:-4:-1]  # the last three, newest first


def test_the_migration_gives_documents_kept_before_it_the_procedure_they_were_filed_under(mother, building, licence,
                                                                                          agency):
    file_online(mother, building, agency, [("DON", pdf_file())])
    file_online(mother, licence, agency, [("DON", pdf_file())])
    StoredDocument.objects.update(procedure_code="")
    migration = importlib.import_module("egov.portal.migrations.0005_stored_documents_procedure_code")
    from django.apps import apps

    migration.fill_procedure_codes(apps, types.SimpleNamespace(connection=connection))
    assert sorted(StoredDocument.objects.values_list("procedure_code", flat=True)) == ["1.009994", "1.012267"]


# --- Every document the applicant files reaches their store -----------------------------------------------------------

def test_a_document_sent_in_reply_to_a_supplement_request_is_kept_in_the_store(mother, building, agency, officers):
    dossier = file_online(mother, building, agency, [("DON", pdf_file())])
    services.request_supplement(dossier.pk, officer=officers["desk"], missing=["Giấy tờ về quyền sử dụng đất"],
                                at=vn("2026-03-02 10:00"))
    services.supply(dossier.pk, user=mother, files=[("QSDD", pdf_file()), ("", pdf_file("letter.pdf"))],
                    at=vn("2026-03-03 09:00"))
    supplied = dossier.attachments.get(kind=Attachment.Kind.SUPPLEMENT, component_code="QSDD")
    kept = StoredDocument.objects.get(owner=mother, attachment=supplied)
    assert kept.kind == "component" and kept.procedure_code == "1.009994" and kept.stored_at == vn("2026-03-03 09:00")
    assert apply_services.stored_documents_for(mother, building)["QSDD"] == [kept]
    # The free-form supplement (no component) stands in for nothing: not kept for reuse.
    assert StoredDocument.objects.filter(owner=mother).count() == 2


def test_a_dossier_filed_at_the_desk_for_a_citizen_with_an_account_reaches_her_store(mother, building, officers):
    dossier = services.intake_at_desk(officer=officers["desk"], procedure_version=building, channel=1,
                                      applicant=HER,
                                      subject=None, form_data=FORM, files=[("DON", pdf_file())],
                                      at=vn("2026-03-02 09:00"))
    kept = StoredDocument.objects.get(owner=mother)
    assert kept.source_dossier == dossier and kept.component_code == "DON"
    assert apply_services.stored_documents_for(mother, building)["DON"] == [kept]


def test_a_dossier_filed_by_post_for_someone_without_an_account_is_kept_for_nobody(mother, building, officers):
    services.intake_at_desk(officer=officers["desk"], procedure_version=building, channel=3, applicant=APPLICANT,
                            subject=None, form_data=FORM, files=[("DON", pdf_file())], at=vn("2026-03-02 09:00"))
    assert not StoredDocument.objects.exists()


# --- A delivered result is kept when it is delivered ---------------------------------------------------------------

def test_a_delivered_result_is_kept_by_the_ledger_consumer_since_its_delivery(mother, building, agency, officers):
    dossier = deliver(file_online(mother, building, agency, [("DON", pdf_file())]), officers, "2026-03-05 10:00")
    assert not StoredDocument.objects.filter(kind="result").exists()  # nobody has opened a page
    call_command("egov_notify", once=True)  # the loop that runs the ledger consumers
    result = StoredDocument.objects.get(owner=mother, kind="result")
    assert result.attachment == dossier.attachments.get(kind=Attachment.Kind.RESULT)
    assert result.stored_at == vn("2026-03-05 10:00")  # "kept since": the delivery, not a later visit


def test_the_consumer_keeps_a_result_once_however_often_it_reads_the_event(mother, building, agency, officers):
    deliver(file_online(mother, building, agency, [("DON", pdf_file())]), officers, "2026-03-05 10:00")
    apply_services.keep_delivered()
    from egov.kernel.ledger_models import ConsumerOffset

    ConsumerOffset.objects.filter(consumer=apply_services.DATA_STORE_CONSUMER).update(last_seq=0)  # a replay
    apply_services.keep_delivered()
    assert StoredDocument.objects.filter(owner=mother, kind="result").count() == 1


def test_a_result_first_seen_on_a_page_is_still_kept_since_its_delivery(client, mother, building, agency, officers):
    deliver(file_online(mother, building, agency, [("DON", pdf_file())]), officers, "2026-03-05 10:00")
    signed_in(client, mother)
    assert client.get("/my/documents/").status_code == 200
    assert StoredDocument.objects.get(owner=mother, kind="result").stored_at == vn("2026-03-05 10:00")


def test_the_result_of_a_desk_dossier_reaches_the_applicants_account(mother, building, officers):
    dossier = services.intake_at_desk(officer=officers["desk"], procedure_version=building, channel=1,
                                      applicant=HER,
                                      subject=None, form_data=FORM, files=[("DON", pdf_file())],
                                      at=vn("2026-03-02 09:00"))
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 10:30"))
    services.attach_result(dossier.pk, officer=officers["specialist"], file=None, at=vn("2026-03-03 09:00"))
    for officer, task in (("specialist", "process"), ("head", "review")):
        services.complete_step(dossier.pk, officer=officers[officer], task_id=task, at=vn("2026-03-03 09:00"))
    services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve", at=vn("2026-03-03 09:00"))
    services.deliver(dossier.pk, officer=officers["desk"], method="desk", at=vn("2026-03-05 10:00"))
    apply_services.keep_delivered()
    result = StoredDocument.objects.get(owner=mother, kind="result")
    assert result.source_dossier_id == dossier.pk and result.stored_at == vn("2026-03-05 10:00")
    assert dossier.__class__.objects.get(pk=dossier.pk).status == Status.DELIVERED
