"""The digitisation indicator of the service index (Decision 766; DOMAIN.md): the share of the dossiers received in
a period that were filed reusing digitised documents from the applicant's data store ("once only")."""
import importlib
import types

from django.db import connection

from egov.dossiers import services as dossiers
from egov.monitoring import queries, services
from egov.monitoring.models import DossierFact, MonthlyFigures
from egov.portal.apply_models import StoredDocument
from tests.kernel.conftest import vn

MID_APRIL = vn("2026-04-15 12:00")


def march(agency="000.00.12.H29"):
    return queries.figures(queries.make_filter(year=2026, month=3, agency=agency), now=MID_APRIL)


def reuse_in_march(desk, citizen, version, agency):
    """Four dossiers received in March: one filed with a document from the data store, three with new uploads (the
    first of them put the document in the store); a fifth reuses it but is never received."""
    first = desk.online("2026-03-02 08:00", "2026-03-02 09:00")
    stored = StoredDocument.objects.get(owner=citizen, source_dossier=first, component_code="to_khai")
    again = dossiers.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                   form_data={"purpose": "du học"}, files=[], reused={"to_khai": stored},
                                   at=vn("2026-03-03 08:00"))
    dossiers.receive(again.pk, officer=desk.officers["desk"], at=vn("2026-03-03 09:00"))
    desk.online("2026-03-04 08:00", "2026-03-04 09:00")
    desk.walk_in("2026-03-05 08:00")
    dossiers.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                           form_data={"purpose": "du học"}, files=[], reused={"to_khai": stored},
                           at=vn("2026-03-31 08:00"))


def test_the_share_of_received_dossiers_that_reused_digitised_documents(desk, citizen, version, agency):
    reuse_in_march(desk, citizen, version, agency)
    services.update()
    figures = march()
    assert (figures.received_new, figures.reused) == (4, 1)
    assert figures.percentages["reuse_share"] == 25.0


def test_the_indicator_is_in_the_api_the_csv_and_the_page(client, desk, citizen, version, agency):
    reuse_in_march(desk, citizen, version, agency)
    services.update()
    body = client.get("/api/v1/statistics?year=2026&month=3&agency=000.00.12.H29").json()
    # Digitised: the three filed online (a new upload or the stored document); the walk-in brought paper only.
    assert body["digitisation"] == {"reused": 1, "digitised": 3, "results_digitised": 0}
    assert body["percentages"]["reuse_share"] == 25.0 and body["percentages"]["digitised_share"] == 75.0
    csv_text = client.get("/statistics/export.csv?year=2026&month=3&agency=000.00.12.H29").content.decode("utf-8-sig")
    header, row = (line.split(",") for line in csv_text.splitlines()[:2])
    assert row[header.index("Tỷ lệ sử dụng lại dữ liệu số hóa (%)")] == "25"
    page = client.get("/statistics/?year=2026&month=3&agency=000.00.12.H29", HTTP_ACCEPT_LANGUAGE="en")
    assert "of which filed reusing digitised documents" in page.content.decode()


def test_the_indicator_survives_a_replay_and_a_rebuild(desk, citizen, version, agency):
    reuse_in_march(desk, citizen, version, agency)
    services.update()
    services.rebuild()
    services.update()
    assert march().reused == 1
    assert sum(MonthlyFigures.objects.values_list("reused", flat=True)) == 1


def test_the_migration_counts_reuses_made_before_the_indicator_existed(desk, citizen, version, agency):
    reuse_in_march(desk, citizen, version, agency)
    services.update()
    DossierFact.objects.update(reused=False)
    MonthlyFigures.objects.update(reused=0)
    from egov.monitoring.models import AgencyMonthlyFigures

    AgencyMonthlyFigures.objects.update(reused=0)
    migration = importlib.import_module("egov.monitoring.migrations.0003_reuse_of_digitised_documents")
    from django.apps import apps

    migration.count_earlier_reuses(apps, types.SimpleNamespace(connection=connection))
    assert march().reused == 1 and DossierFact.objects.filter(reused=True).count() == 2  # one never received


# --- Số hóa hồ sơ: dossiers digitised at the input and results issued electronically --------------------------------

def test_a_dossier_is_digitised_when_every_required_document_is_held_electronically(desk, citizen, version, agency,
                                                                                    officers):
    from tests.dossiers.conftest import APPLICANT, pdf_file

    paper = desk.walk_in("2026-03-02 08:00")  # the desk kept the paper and scanned nothing
    scanned = dossiers.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                      applicant=APPLICANT, subject=None, form_data={"purpose": "xin việc"},
                                      files=[("to_khai", pdf_file())], at=vn("2026-03-03 08:00"))
    version.components = [{**version.components[0], "eform": True}, *version.components[1:]]
    version.save(update_fields=["components"])
    declared = dossiers.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                      form_data={"purpose": "du học"}, files=[], declared=True,
                                      at=vn("2026-03-04 08:00"))  # the e-form stands for the declaration
    dossiers.receive(declared.pk, officer=officers["desk"], at=vn("2026-03-04 09:00"))
    for dossier in (scanned, declared):
        desk.transfer(dossier, "2026-03-05 08:00")
    desk.finish(scanned, "2026-03-06 10:00")  # the result issued signed
    services.update()
    facts = dict(DossierFact.objects.values_list("dossier_id", "digitised"))
    assert facts == {paper.pk: False, scanned.pk: True, declared.pk: True}
    figures = march()
    assert (figures.received_new, figures.digitised, figures.processed, figures.results_digitised) == (3, 2, 1, 1)
    assert figures.percentages["digitised_share"] == 66.7 and figures.percentages["results_digitised_share"] == 100.0
    services.rebuild()
    again = march()
    assert (again.digitised, again.results_digitised) == (2, 1)


def test_the_digitised_shares_are_on_the_page_and_in_the_csv(client, desk, citizen, version, agency):
    reuse_in_march(desk, citizen, version, agency)
    services.update()
    csv_text = client.get("/statistics/export.csv?year=2026&month=3&agency=000.00.12.H29").content.decode("utf-8-sig")
    header, row = (line.split(",") for line in csv_text.splitlines()[:2])
    assert row[header.index("Tỷ lệ số hóa hồ sơ (%)")] == "75" and row[header.index("Tỷ lệ số hóa kết quả (%)")] == ""
    page = client.get("/statistics/?year=2026&month=3&agency=000.00.12.H29", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "of which with every required document digitised" in page
    assert "of which with the result issued electronically" in page
