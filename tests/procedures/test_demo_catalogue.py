"""The demo catalogue loads, reloads unchanged, and round-trips through export and import."""
import datetime as dt
import shutil

from egov.kernel.models import Event
from egov.procedures import queries, services
from egov.procedures.catalogue import parse_catalogue
from egov.procedures.demo import DEMO_CATALOGUE, load_demo_catalogue
from egov.procedures.models import Procedure, ProcedureVersion


def demo_spec():
    return parse_catalogue(DEMO_CATALOGUE.read_text(encoding="utf-8"), source="demo.yaml",
                           base_dir=DEMO_CATALOGUE.parent)


def by_code(catalogue):
    """Procedures by code, agencies sorted: the order of either carries no meaning."""
    for procedure in catalogue.procedures:
        for version in procedure.versions:
            version.agencies = sorted(version.agencies)
    return {procedure.code: procedure for procedure in catalogue.procedures}


def test_the_demo_catalogue_has_ten_procedures_at_every_level():
    catalogue = demo_spec()
    assert len(catalogue.procedures) >= 10
    levels = {version.level for procedure in catalogue.procedures for version in procedure.versions}
    assert levels == {"commune", "province", "ministry"}
    birth = next(procedure for procedure in catalogue.procedures if procedure.code == "1.001193").versions[-1]
    assert (birth.registry_effect, birth.auto_receive, birth.min_assurance_level) == ("population.birth", False, 2)
    assert birth.applicants.startswith("Cha, mẹ, ông, bà")
    assert all(version.applicants for procedure in catalogue.procedures for version in procedure.versions)
    effects = {version.registry_effect for procedure in catalogue.procedures for version in procedure.versions}
    assert {"population.birth", "population.death", "population.residence"} <= effects


def test_the_demo_catalogue_loads_and_reloads_unchanged(demo_agencies):
    first = services.import_catalogue(DEMO_CATALOGUE)
    assert len(first.created) == 12 and not first.updated and not first.unchanged
    assert Procedure.objects.count() == 11
    assert Event.objects.filter(event_type="procedure.version_published", partition="catalogue").count() == 12

    again = services.import_catalogue(DEMO_CATALOGUE)
    assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 12)
    assert Event.objects.filter(event_type="procedure.version_published").count() == 12


def test_the_seed_line_loads_the_demo_catalogue_idempotently(demo_agencies):
    assert load_demo_catalogue() == "Demo procedure catalogue: 12 versions created, 0 updated, 0 unchanged."
    assert load_demo_catalogue() == "Demo procedure catalogue: 0 versions created, 0 updated, 12 unchanged."


def test_export_then_import_changes_nothing(demo_agencies, tmp_path):
    services.import_catalogue(DEMO_CATALOGUE)
    before = list(ProcedureVersion.objects.order_by("id").values())

    path = services.export_catalogue(tmp_path / "export")
    exported = parse_catalogue(path.read_text(encoding="utf-8"), source=str(path), base_dir=path.parent)
    assert by_code(exported) == by_code(demo_spec())  # the same catalogue, field by field

    report = services.import_catalogue(path)
    assert (len(report.created), len(report.updated), len(report.unchanged)) == (0, 0, 12)
    assert list(ProcedureVersion.objects.order_by("id").values()) == before

    # And a second export is byte for byte the first.
    again = services.export_catalogue(tmp_path / "again")
    assert again.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
    for bpmn in (tmp_path / "export" / "bpmn").iterdir():
        assert (tmp_path / "again" / "bpmn" / bpmn.name).read_bytes() == bpmn.read_bytes()


def test_a_changed_version_nobody_uses_is_updated(demo_agencies, tmp_path):
    services.import_catalogue(DEMO_CATALOGUE)
    shutil.copytree(DEMO_CATALOGUE.parent, tmp_path / "catalogue")
    changed = tmp_path / "catalogue" / "demo.yaml"
    changed.write_text(changed.read_text(encoding="utf-8").replace("amount: 200000}", "amount: 250000}", 1),
                       encoding="utf-8")
    report = services.import_catalogue(changed)
    assert report.updated == ["2.000488 2025-07-01 (v1)"]
    assert ProcedureVersion.objects.get(procedure__code="2.000488").total_fee == 250000


def test_versions_in_force(demo_agencies):
    services.import_catalogue(DEMO_CATALOGUE)
    copy = queries.procedure_by_code("2.000815")
    assert queries.version_in_force(copy, dt.date(2020, 1, 1)).version == 1
    assert queries.version_in_force(copy, dt.date(2025, 7, 1)).version == 2
    assert queries.version_in_force(copy, dt.date(2015, 1, 1)) is None
    assert queries.procedure_by_code("9.999999") is None

    ward = demo_agencies["000.00.61.H41"]  # not in version 1 of the certified copy, in version 2
    codes = [version.procedure.code for version in queries.versions_in_force(dt.date(2025, 8, 1), agency=ward)]
    assert codes == ["1.000656", "1.000894", "1.001193", "2.000720", "2.000815", "2.004227"]
    assert queries.versions_in_force(dt.date(2020, 1, 1), agency=ward) == []
    old = queries.versions_in_force(dt.date(2020, 1, 1), agency=demo_agencies["000.00.61.H29"])
    assert [(version.procedure.code, version.version) for version in old] == [("2.000815", 1)]
    ministry = queries.versions_in_force(dt.date(2025, 8, 1), agency=demo_agencies["000.00.00.G18"])
    assert [version.procedure.code for version in ministry] == ["1.002153"]
    assert len(queries.versions_in_force(dt.date(2025, 8, 1))) == 11
