"""Fees that count an e-form answer in the catalogue: how they are written, every mistake located, the demo's, and
the demo catalogue loaded again over a database whose dossiers use the versions whose fees gained the counts."""
import datetime as dt
import textwrap

import pytest

from egov.dossiers.models import Channel, Dossier, Status
from egov.procedures import services
from egov.procedures.catalogue import CatalogueErrors, parse_catalogue
from egov.procedures.demo import DEMO_CATALOGUE, load_demo_catalogue
from egov.procedures.models import ProcedureVersion

CATALOGUE = textwrap.dedent("""\
    format: egov-catalogue/1
    procedures:
      - code: "2.000488"
        name: Cấp Phiếu lý lịch tư pháp
        sector: Lý lịch tư pháp
        versions:
          - effective_from: 2025-07-01
            level: province
            agencies: [000.00.12.H29]
            duration_days: 10
            steps:
              - {id: process, name: Xử lý, role: specialist, working_days: 10}
            fees:
              - {code: PHI_LLTP, name: Phí, per: copies, unit: bản, included: 2, unit_amount: 5000, amount: 200000}
            form_schema:
              type: object
              properties:
                copies: {type: integer, minimum: 1}
                pages: {type: [integer, "null"]}
                purpose: {type: string}
            online_level: full
            result_type: Phiếu lý lịch tư pháp
    """)
FEE = "{code: PHI_LLTP, name: Phí, per: copies, unit: bản, included: 2, unit_amount: 5000, amount: 200000}"


def fees_of(text: str) -> list[dict]:
    return parse_catalogue(text, source="catalogue.yaml", base_dir=None).procedures[0].versions[0].fees


def errors_of(fee: str) -> list[tuple[int, str, str]]:
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(CATALOGUE.replace(FEE, fee), source="catalogue.yaml", base_dir=None)
    return [(error.line, error.path, error.message) for error in caught.value.errors]


def test_a_fee_that_counts_an_answer_is_read_with_only_the_keys_written():
    assert fees_of(CATALOGUE) == [{"code": "PHI_LLTP", "name": "Phí", "amount": 200000, "per": "copies",
                                   "unit": "bản", "included": 2, "unit_amount": 5000}]
    tiered = ("{code: LP, name: Phí, per: pages, unit: trang, up_to: 2, unit_amount: 2000, times: copies, "
              "times_unit: bản, amount: 2000}")
    assert fees_of(CATALOGUE.replace(FEE, tiered)) == [
        {"code": "LP", "name": "Phí", "amount": 2000, "per": "pages", "unit": "trang", "times": "copies",
         "times_unit": "bản", "unit_amount": 2000, "up_to": 2}]
    # A fixed fee is stored as before: versions loaded before counted fees existed compare equal.
    assert fees_of(CATALOGUE.replace(FEE, "{code: LP, name: Phí, amount: 0}")) == [
        {"code": "LP", "name": "Phí", "amount": 0}]


FIELD = "procedures[0].versions[0].fees[0]"


@pytest.mark.parametrize(("fee", "expected"), [
    ("{code: F, name: Phí, per: copy, unit: bản, unit_amount: 5000, amount: 1}",
     [(14, f"{FIELD}.per", "“copy” is not a field of the form_schema: name an integer field (“copies”, “pages”)")]),
    ("{code: F, name: Phí, per: purpose, unit: bản, unit_amount: 5000, amount: 1}",
     [(14, f"{FIELD}.per", "“purpose” is not an integer field of the form_schema (give it type: integer): a fee "
                           "counts whole units")]),
    ("{code: F, name: Phí, per: copies, unit: bản, amount: 1}",
     [(14, f"{FIELD}.unit_amount", "missing key “unit_amount”: what each unit after the included ones costs (VND)")]),
    ("{code: F, name: Phí, per: copies, unit_amount: 5000, amount: 1}",
     [(14, f"{FIELD}.unit", "missing key “unit”: say what per counts, as the fee line shows it (for example bản, "
                            "trang)")]),
    ("{code: F, name: Phí, per: copies, unit: bản, unit_amount: -5000, amount: 1}",
     [(14, f"{FIELD}.unit_amount", "a fee cannot be negative: -5000")]),
    ("{code: F, name: Phí, per: copies, unit: bản, unit_amount: 5.000, amount: 1}",
     [(14, f"{FIELD}.unit_amount", "a fee is a whole number of đồng (VND, no decimals, no separators), not “5.000”")]),
    ("{code: F, name: Phí, per: copies, unit: bản, included: -1, unit_amount: 5, amount: 1}",
     [(14, f"{FIELD}.included", "must not be negative: -1")]),
    ("{code: F, name: Phí, per: copies, unit: bản, included: 2, up_to: 2, unit_amount: 5, amount: 1}",
     [(14, f"{FIELD}.up_to", "up_to (2) must be more than included (2), or the line never counts a unit")]),
    ("{code: F, name: Phí, included: 2, unit_amount: 5, amount: 1}",
     [(14, f"{FIELD}.included", "included only applies to a fee with per (the integer e-form field it counts)"),
      (14, f"{FIELD}.unit_amount", "unit_amount only applies to a fee with per (the integer e-form field it counts)")]),
    ("{code: F, name: Phí, times_unit: bản, amount: 1}",
     [(14, f"{FIELD}.times_unit", "times_unit only applies to a fee with times (the integer e-form field that "
                                  "multiplies it)")]),
    ("{code: F, name: Phí, per: copies, unit: bản, unit_amount: 5, times: copies, times_unit: bản, amount: 1}",
     [(14, f"{FIELD}.times", "per and times cannot name the same field")]),
    ("{code: F, name: Phí, per: copies, unit: bản, unit_amount: 5, amount: 1, each: 5}",
     [(14, f"{FIELD}.each", "unknown key “each”")]),
])
def test_each_mistake_in_a_counted_fee_is_reported_at_its_line(fee, expected):
    assert errors_of(fee) == expected


def test_a_counted_fee_needs_the_version_to_have_the_field():
    text = CATALOGUE[:CATALOGUE.index("        form_schema:")] + CATALOGUE[CATALOGUE.index("        online_level:"):]
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(text, source="catalogue.yaml", base_dir=None)
    assert [(e.path, e.message) for e in caught.value.errors] == [
        (f"{FIELD}.per", "“copies” is not a field of the form_schema: name an integer field (there is none)")]


def test_the_demo_fees_count_the_copies_and_the_pages():
    catalogue = services.read_catalogue(DEMO_CATALOGUE)
    versions = {(p.code, v.effective_from.isoformat()): v for p in catalogue.procedures for v in p.versions}
    assert versions[("2.000488", "2025-07-01")].fees == [
        {"code": "PHI_LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000, "per": "copies",
         "unit": "bản", "included": 2, "unit_amount": 5000}]
    from egov.payments import rules

    copy = versions[("2.000815", "2025-07-01")].fees
    assert rules.total(rules.fee_lines(copy, {"pages": 3, "copies": 2})) == 10000  # (2.000 + 2.000 + 1.000) × 2
    assert rules.total(rules.fee_lines(copy, {"pages": 1, "copies": 1})) == 2000
    # The 2015 version has no e-form: its fee stays fixed.
    assert versions[("2.000815", "2015-04-10")].fees[0]["amount"] == 2000
    assert "per" not in versions[("2.000815", "2015-04-10")].fees[0]


# --- Loading the demo catalogue again over a demo database (what `egov demo` does at every start) -------------------

FLAT_FEES = {  # the fees of the demo catalogue before they counted copies and pages
    "          - {code: PHI_LLTP, name: Phí cung cấp thông tin lý lịch tư pháp, per: copies, unit: bản, included: 2, "
    "unit_amount: 5000, amount: 200000}\n":
    "          - {code: PHI_LLTP, name: Phí cung cấp thông tin lý lịch tư pháp, amount: 200000}\n",
}


@pytest.fixture
def flat_demo(tmp_path):
    """The demo catalogue as it was, with fixed fees only, in a copy of its directory."""
    import shutil

    shutil.copytree(DEMO_CATALOGUE.parent, tmp_path / "catalogue")
    path = tmp_path / "catalogue" / "demo.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("          - {code: LP_CT, name: \"Phí chứng thực bản sao, trang 1–2")
    end = text.index("\n", text.index("{code: LP_CT3")) + 1
    text = text[:start] + ("          - {code: LP_CT, name: \"Phí chứng thực bản sao (2.000 đồng/trang; từ trang "
                           "thứ ba: 1.000 đồng/trang)\", amount: 2000}\n") + text[end:]
    for new, old in FLAT_FEES.items():
        assert new in text
        text = text.replace(new, old)
    path.write_text(text, encoding="utf-8")
    return path


def use(version: ProcedureVersion, number: int) -> Dossier:
    agency = version.agencies.first()
    return Dossier.objects.create(code=f"{agency.code}-250801-{number:04d}", procedure_version=version,
                                  receiving_agency=agency, channel=Channel.ONLINE, status=Status.SUBMITTED,
                                  sealed="-", key_id="-", submitted_at=dt.datetime(2025, 8, 1, 2, 0, tzinfo=dt.UTC))


def test_the_demo_catalogue_loads_again_over_a_database_without_dossiers_of_the_changed_versions(
        demo_agencies, flat_demo):
    services.import_catalogue(flat_demo)
    summary = load_demo_catalogue()
    assert "2 updated" in summary
    assert ProcedureVersion.objects.get(procedure__code="2.000488").fees[0]["per"] == "copies"


def test_the_demo_catalogue_loads_again_over_a_demo_database_whose_dossiers_use_the_changed_versions(
        demo_agencies, flat_demo):
    services.import_catalogue(flat_demo)
    use(ProcedureVersion.objects.get(procedure__code="2.000488"), 1)
    use(ProcedureVersion.objects.get(procedure__code="2.000815", version=2), 2)
    load_demo_catalogue()
    assert ProcedureVersion.objects.get(procedure__code="2.000488").fees[0]["per"] == "copies"
    assert [fee["code"] for fee in ProcedureVersion.objects.get(procedure__code="2.000815", version=2).fees] == [
        "LP_CT", "LP_CT3"]
