"""Import rules: a version that dossiers use never changes; the command line reports errors one per line."""
import datetime as dt
import shutil

import pytest

from egov import cli
from egov.dossiers.models import Channel, Dossier, Status
from egov.procedures import services
from egov.procedures.catalogue import CatalogueErrors
from egov.procedures.demo import DEMO_CATALOGUE
from egov.procedures.models import ProcedureVersion


@pytest.fixture
def catalogue_copy(tmp_path):
    shutil.copytree(DEMO_CATALOGUE.parent, tmp_path / "catalogue")
    return tmp_path / "catalogue" / "demo.yaml"


def use(version: ProcedureVersion) -> Dossier:
    agency = version.agencies.first()
    return Dossier.objects.create(code=f"{agency.code}-250801-0001", procedure_version=version,
                                  receiving_agency=agency, channel=Channel.ONLINE, status=Status.SUBMITTED,
                                  sealed="-", key_id="-", submitted_at=dt.datetime(2025, 8, 1, 2, 0, tzinfo=dt.UTC))


def test_a_version_used_by_a_dossier_cannot_be_changed(demo_agencies, catalogue_copy):
    services.import_catalogue(DEMO_CATALOGUE)
    version = ProcedureVersion.objects.get(procedure__code="2.000488")
    use(version)
    text = catalogue_copy.read_text(encoding="utf-8")
    catalogue_copy.write_text(text.replace("amount: 200000}", "amount: 250000}", 1), encoding="utf-8")

    with pytest.raises(CatalogueErrors) as caught:
        services.import_catalogue(catalogue_copy)
    assert [(error.path, error.message) for error in caught.value.errors] == [
        ("procedures[7].versions[0]", "version 1 of 2.000488 (effective 2025-07-01) is used by dossiers and cannot "
                                      "change: give the change a new version with a later effective_from")]
    version.refresh_from_db()
    assert version.total_fee == 200000


def test_what_only_describes_a_used_version_to_citizens_may_still_change(demo_agencies, catalogue_copy):
    services.import_catalogue(DEMO_CATALOGUE)
    version = ProcedureVersion.objects.get(procedure__code="2.000488")
    use(version)
    text = catalogue_copy.read_text(encoding="utf-8")
    said = "applicants: Công dân Việt Nam; người nước ngoài đang hoặc đã từng cư trú tại Việt Nam"
    assert said in text
    catalogue_copy.write_text(text.replace(said, "applicants: Công dân Việt Nam; người nước ngoài đã cư trú tại "
                                                 "Việt Nam"), encoding="utf-8")
    report = services.import_catalogue(catalogue_copy)
    assert report.updated == ["2.000488 2025-07-01 (v1)"]
    version.refresh_from_db()
    assert version.applicants == "Công dân Việt Nam; người nước ngoài đã cư trú tại Việt Nam" and version.version == 1
    # With a rule changed as well, the whole change is refused, the description too.
    text = catalogue_copy.read_text(encoding="utf-8")
    catalogue_copy.write_text(text.replace("người nước ngoài đã cư trú", "người nước ngoài").replace(
        "amount: 200000}", "amount: 250000}", 1), encoding="utf-8")
    with pytest.raises(CatalogueErrors):
        services.import_catalogue(catalogue_copy)
    version.refresh_from_db()
    assert version.applicants == "Công dân Việt Nam; người nước ngoài đã cư trú tại Việt Nam"


def test_a_change_to_a_used_version_goes_into_a_new_version(demo_agencies, catalogue_copy):
    services.import_catalogue(DEMO_CATALOGUE)
    use(ProcedureVersion.objects.get(procedure__code="2.000815", version=2))
    text = catalogue_copy.read_text(encoding="utf-8")
    # The 2025 version of the certified copy, repeated with a later date and a new fee.
    start = text.index("      - effective_from: 2025-07-01\n", text.index('code: "2.000815"'))
    end = text.index("\n  - code:", start)
    newer = text[start:end].replace("effective_from: 2025-07-01", "effective_from: 2026-01-01").replace(
        "amount: 2000}", "amount: 3000}")
    catalogue_copy.write_text(text[:end] + "\n" + newer + text[end:], encoding="utf-8")

    report = services.import_catalogue(catalogue_copy)
    assert report.created == ["2.000815 2026-01-01 (v3)"]
    assert len(report.unchanged) == 12
    assert ProcedureVersion.objects.get(procedure__code="2.000815", version=3).total_fee == 3000


def test_the_cli_prints_one_line_per_error_and_exits_1(db, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: egov-catalogue/1\nprocedures:\n  - code: \"1.2345\"\n    name: X\n    sector: Y\n"
                   "    versions: []\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        cli.main(["catalogue", "import", str(bad)])
    assert exited.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{bad}:3: procedures[0].code: bad procedure code “1.2345”: a national code is a digit, a dot and six "
        "digits, e.g. 1.001193",
        f"{bad}:6: procedures[0].versions: a procedure needs at least one version",
        "egov catalogue: 2 error(s); nothing was imported",
    ]

    with pytest.raises(SystemExit) as exited:
        cli.main(["catalogue", "import", str(tmp_path / "nowhere.yaml")])
    assert exited.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{tmp_path / 'nowhere.yaml'}: file not found", "egov catalogue: 1 error(s); nothing was imported"]


def test_the_cli_imports_and_exports(demo_agencies, tmp_path, capsys):
    cli.main(["catalogue", "import", str(DEMO_CATALOGUE)])
    assert capsys.readouterr().out.strip() == (f"{DEMO_CATALOGUE}: 11 procedures created; versions: 12 created, "
                                               "0 updated, 0 unchanged")
    cli.main(["catalogue", "export", str(tmp_path / "out")])
    assert capsys.readouterr().out.strip() == f"Catalogue written to {tmp_path / 'out' / 'catalogue.yaml'}"
    assert len(list((tmp_path / "out" / "bpmn").glob("*.bpmn"))) == 12


def test_which_component_the_eform_stands_for_may_change_on_a_used_version(demo_agencies, catalogue_copy):
    """It only changes what a future online applicant uploads: the dossiers filed under the version keep their files."""
    services.import_catalogue(DEMO_CATALOGUE)
    version = ProcedureVersion.objects.get(procedure__code="2.000488")
    assert version.eform_component["code"] == "TK_LLTP"
    use(version)
    text = catalogue_copy.read_text(encoding="utf-8")
    marked = "template: mau-03-to-khai-lltp.docx, eform: true}"
    assert marked in text
    catalogue_copy.write_text(text.replace(marked, "template: mau-03-to-khai-lltp.docx}"), encoding="utf-8")
    report = services.import_catalogue(catalogue_copy)
    assert report.updated == ["2.000488 2025-07-01 (v1)"]
    version.refresh_from_db()
    assert version.eform_component is None and version.version == 1
    assert [c["code"] for c in version.components] == ["TK_LLTP", "UQ"]


def test_a_demo_database_seeded_before_the_marks_takes_them_on_its_used_versions(demo_agencies, catalogue_copy):
    """The upgrade path of `egov demo` run again: the file now marks the e-form declarations and the remembered
    answers of versions that dossiers already use."""
    text = catalogue_copy.read_text(encoding="utf-8")
    catalogue_copy.write_text(text.replace(", eform: true}", "}").replace(", remember: true", ""), encoding="utf-8")
    services.import_catalogue(catalogue_copy)
    birth = ProcedureVersion.objects.get(procedure__code="1.001193")
    assert birth.eform_component is None and "remember" not in birth.ui_schema["father_pin"]
    use(birth)
    use(ProcedureVersion.objects.get(procedure__code="2.000488"))

    report = services.import_catalogue(DEMO_CATALOGUE)
    assert "1.001193 2025-07-01 (v1)" in report.updated and "2.000488 2025-07-01 (v1)" in report.updated
    birth.refresh_from_db()
    assert birth.eform_component["code"] == "TK_KS" and birth.ui_schema["father_pin"]["remember"] is True
    assert birth.version == 1
    # A label is what the dossiers were filed under: changing it on a used version still needs a new version.
    catalogue_copy.write_text(DEMO_CATALOGUE.read_text(encoding="utf-8").replace(
        "Số định danh cá nhân của cha", "Số định danh của cha"), encoding="utf-8")
    with pytest.raises(CatalogueErrors):
        services.import_catalogue(catalogue_copy)
