"""A catalogue file with mistakes: every one is reported at once, each with its line and path, and nothing loads."""
import textwrap

import pytest

from egov.procedures import services
from egov.procedures.catalogue import CatalogueErrors, parse_catalogue
from egov.procedures.models import Procedure

TEN_MISTAKES = textwrap.dedent("""\
    format: egov-catalogue/1
    procedures:
      - code: "1.001193"
        name: Đăng ký khai sinh
        sector: Hộ tịch
        versions:
          - efective_from: 2025-07-01
            level: commune
            agencies: [000.00.61.H29]
            duration_days: 3
            steps:
              - {id: process, name: Xử lý, role: specialist, working_days: 2}
              - {id: approve, name: Ký duyệt, role: agency_lead, working_days: 1}
            fees:
              - {code: LP, name: Lệ phí, amount: 100000}
              - {code: LP2, name: Lệ phí khác, amount: -5000}
            online_level: full
            result_type: Giấy khai sinh
      - code: "1.00119"
        name: Đăng ký kết hôn
        sector: Hộ tịch
        versions:
          - effective_from: 2025-07-01
            level: ward
            agencies: [000.00.61.H29]
            duration_days: 5
            steps:
              - {id: process, name: Xử lý, role: specialist, working_days: 3}
              - {id: approve, name: Ký duyệt, role: agency_leader, working_days: 1}
            components:
              - {code: TK, name: Tờ khai}
              - {code: TK, name: Tờ khai (bản sao)}
              - {code: GCS, name: Giấy chứng sinh, result_of: "1.999999"}
            form_schema:
              type: object
              properties:
                full_name: {type: strung}
            online_level: full
            result_type: Giấy chứng nhận kết hôn
            bpmn: missing.bpmn
    """)

EXPECTED = [
    (7, "procedures[0].versions[0].efective_from", "unknown key “efective_from” (did you mean “effective_from”?)"),
    (7, "procedures[0].versions[0].effective_from", "missing key “effective_from”"),
    (13, "procedures[0].versions[0].steps[1].role",
     "unknown role “agency_lead”: use one of “desk_officer”, “specialist”, “head_of_unit”, “agency_leader”"),
    (16, "procedures[0].versions[0].fees[1].amount", "a fee cannot be negative: -5000"),
    (19, "procedures[1].code",
     "bad procedure code “1.00119”: a national code is a digit, a dot and six digits, e.g. 1.001193"),
    (24, "procedures[1].versions[0].level", "unknown level “ward”: use one of “commune”, “province”, “ministry”"),
    (27, "procedures[1].versions[0].steps",
     "the steps add up to 4 working days but duration_days is 5"),
    (32, "procedures[1].versions[0].components[1].code", "duplicate component code “TK”"),
    (37, "procedures[1].versions[0].form_schema.properties.full_name.type",
     "not a valid JSON Schema: 'strung' is not valid under any of the given schemas"),
    (40, "procedures[1].versions[0].bpmn", "BPMN file not found: missing.bpmn"),
]


def test_ten_mistakes_are_all_reported_with_line_and_path(tmp_path):
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(TEN_MISTAKES, source="bad.yaml", base_dir=tmp_path)
    found = [(error.line, error.path, error.message) for error in caught.value.errors]
    assert found == EXPECTED
    assert all(error.source == "bad.yaml" for error in caught.value.errors)
    assert str(caught.value.errors[0]) == ("bad.yaml:7: procedures[0].versions[0].efective_from: unknown key "
                                           "“efective_from” (did you mean “effective_from”?)")


def test_result_of_must_name_a_procedure_of_the_catalogue(tmp_path):
    # In the file above, the bad code of procedures[1] hides it; here the only mistake is result_of.
    text = TEN_MISTAKES.split("  - code: \"1.00119\"")[0].replace("efective_from", "effective_from").replace(
        "agency_lead,", "agency_leader,").replace("amount: -5000", "amount: 5000")
    text = text.replace("        online_level: full\n", "        components:\n"
                        "          - {code: X, name: X, result_of: \"1.999999\"}\n        online_level: full\n", 1)
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(text, source="bad.yaml", base_dir=tmp_path)
    assert [(e.line, e.path, e.message) for e in caught.value.errors] == [
        (18, "procedures[0].versions[0].components[0].result_of",
         "result_of names “1.999999”, which is not a procedure of this catalogue")]


@pytest.mark.parametrize(("mistake", "replacement", "expected"), [
    ("amount: 100000", "amount: 100000.5", (15, "procedures[0].versions[0].fees[0].amount",
                                             "a fee is a whole number of đồng (VND, no decimals, no separators), not "
                                             "“100000.5”")),
    ("agencies: [000.00.61.H29]", "agencies: [00.00.61.H29]", (9, "procedures[0].versions[0].agencies[0]",
                                                               "bad agency code “00.00.61.H29”: The first part (level "
                                                               "4) must be exactly three digits; got “00”.")),
    ("duration_days: 3", "duration_days: three", (10, "procedures[0].versions[0].duration_days",
                                                  "must be a number of working days, not text")),
    ("online_level: full", "online_level: level4", (17, "procedures[0].versions[0].online_level",
                                                    "unknown online level “level4”: use one of “full”, “partial”, "
                                                    "“none”")),
])
def test_one_mistake_at_a_time(tmp_path, mistake, replacement, expected):
    good = TEN_MISTAKES.split("  - code: \"1.00119\"")[0].replace("efective_from", "effective_from").replace(
        "agency_lead,", "agency_leader,").replace("amount: -5000", "amount: 5000")
    parse_catalogue(good, source="good.yaml", base_dir=tmp_path)  # the fixed file is valid
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(good.replace(mistake, replacement, 1), source="bad.yaml", base_dir=tmp_path)
    assert [(e.line, e.path, e.message) for e in caught.value.errors] == [expected]


def test_duplicate_codes_and_dates_point_at_the_first_occurrence(tmp_path):
    good = TEN_MISTAKES.split("  - code: \"1.00119\"")[0].replace("efective_from", "effective_from").replace(
        "agency_lead,", "agency_leader,").replace("amount: -5000", "amount: 5000")
    version = good.split("    versions:\n")[1]
    doubled = good + version  # a second version on the same date
    doubled += good.split("procedures:\n")[1]  # the same procedure again
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(doubled, source="bad.yaml", base_dir=tmp_path)
    assert [(e.line, e.path, e.message) for e in caught.value.errors] == [
        (19, "procedures[0].versions[1].effective_from",
         "duplicate effective date 2025-07-01: another version of this procedure (line 7) starts the same day"),
        (31, "procedures[1].code", "duplicate procedure code “1.001193” (first on line 3)"),
    ]


def test_yaml_syntax_errors_and_wrong_format_are_reported(tmp_path):
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue("format: egov-catalogue/1\nprocedures: [\n", source="broken.yaml", base_dir=tmp_path)
    assert caught.value.errors[0].line == 3 and caught.value.errors[0].message.startswith("not valid YAML")
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue("format: egov-catalogue/2\nprocedures: []\n", source="x.yaml", base_dir=tmp_path)
    assert [str(error) for error in caught.value.errors] == [
        "x.yaml:1: format: unknown format “egov-catalogue/2”: this reader knows “egov-catalogue/1”"]


def test_unknown_agencies_are_reported_at_import_and_nothing_loads(db, tmp_path):
    good = TEN_MISTAKES.split("  - code: \"1.00119\"")[0].replace("efective_from", "effective_from").replace(
        "agency_lead,", "agency_leader,").replace("amount: -5000", "amount: 5000")
    file = tmp_path / "catalogue.yaml"
    file.write_text(good, encoding="utf-8")
    with pytest.raises(CatalogueErrors) as caught:
        services.import_catalogue(file)
    assert [str(error) for error in caught.value.errors] == [
        f"{file}:9: procedures[0].versions[0].agencies[0]: no agency with the code “000.00.61.H29” in the registry"]
    assert not Procedure.objects.exists()


EFORM = textwrap.dedent("""\
    format: egov-catalogue/1
    procedures:
      - code: "1.001193"
        name: Đăng ký khai sinh
        sector: Hộ tịch
        versions:
          - effective_from: 2025-07-01
            level: commune
            agencies: [000.00.61.H29]
            duration_days: 3
            steps:
              - {id: process, name: Xử lý, role: specialist, working_days: 3}
            components:
              - {code: TK, name: Tờ khai, eform: true}
              - {code: GCS, name: Giấy chứng sinh}
            form_schema:
              type: object
              properties:
                child_full_name: {type: string}
            online_level: full
            result_type: Giấy khai sinh
    """)


def test_the_eform_stands_for_one_component_of_a_version_that_has_an_eform(tmp_path):
    catalogue = parse_catalogue(EFORM, source="good.yaml", base_dir=tmp_path)
    version = catalogue.procedures[0].versions[0]
    assert [c.get("eform", False) for c in version.components] == [True, False]
    assert "eform" not in version.components[1]  # written only when set: older stored components compare equal

    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(EFORM.replace("{code: GCS, name: Giấy chứng sinh}", "{code: GCS, name: Giấy chứng sinh, "
                                                                           "eform: true}"),
                        source="bad.yaml", base_dir=tmp_path)
    assert [(e.line, e.path, e.message) for e in caught.value.errors] == [
        (15, "procedures[0].versions[0].components[1].eform",
         "only one component can be the e-form's declaration (procedures[0].versions[0].components[0] is already)")]

    no_fields = EFORM.replace("child_full_name: {type: string}", "{}")
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(no_fields, source="bad.yaml", base_dir=tmp_path)
    assert [(e.line, e.path) for e in caught.value.errors] == [(14, "procedures[0].versions[0].components")]
    assert "has no e-form fields" in caught.value.errors[0].message


def test_the_eform_mark_survives_an_export(tmp_path):
    from egov.procedures.catalogue import dump_catalogue

    text, files = dump_catalogue(parse_catalogue(EFORM, source="good.yaml", base_dir=tmp_path))
    for name, xml in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(xml, encoding="utf-8")
    again = parse_catalogue(text, source="again.yaml", base_dir=tmp_path)
    assert again.procedures[0].versions[0].components[0]["eform"] is True


def test_remember_is_true_or_false(tmp_path):
    with_hints = EFORM.replace("        online_level: full\n", "        ui_schema:\n          child_full_name: "
                               "{label: Họ tên, remember: yes please}\n        online_level: full\n")
    assert "remember: yes please" in with_hints
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(with_hints, source="bad.yaml", base_dir=tmp_path)
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("procedures[0].versions[0].ui_schema.child_full_name.remember", "must be true or false, not text")]
    parse_catalogue(with_hints.replace("yes please", "true"), source="good.yaml", base_dir=tmp_path)


# --- Values YAML recognises but cannot build, and files nested too deeply: located errors, never a traceback ---------

def test_a_date_that_does_not_exist_is_reported_at_its_line(tmp_path):
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(EFORM.replace("effective_from: 2025-07-01", "effective_from: 2026-02-30"),
                        source="bad.yaml", base_dir=tmp_path)
    assert [str(error) for error in caught.value.errors] == [
        "bad.yaml:7: procedures[0].versions[0].effective_from: “2026-02-30” is not a date that exists: check the "
        "month and the day (YYYY-MM-DD)"]


def test_a_date_that_does_not_exist_inside_the_eform_is_reported_at_its_own_path(tmp_path):
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(EFORM.replace("child_full_name: {type: string}",
                                      "child_full_name: {type: string, default: 2026-13-01}"),
                        source="bad.yaml", base_dir=tmp_path)
    assert [(e.line, e.path, e.message) for e in caught.value.errors] == [
        (19, "procedures[0].versions[0].form_schema.properties.child_full_name.default",
         "“2026-13-01” is not a date that exists: check the month and the day (YYYY-MM-DD)")]


def test_a_value_that_cannot_be_read_where_a_list_belongs_is_reported(tmp_path):
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(EFORM.replace("agencies: [000.00.61.H29]", "agencies: 2026-02-30"),
                        source="bad.yaml", base_dir=tmp_path)
    assert [(e.line, e.path, e.message) for e in caught.value.errors] == [
        (9, "procedures[0].versions[0].agencies", "must be a list, not a value that cannot be read")]


def test_a_file_nested_too_deeply_gets_one_error_with_its_line(tmp_path):
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue("format: egov-catalogue/1\nprocedures: " + "[" * 20000 + "\n", source="deep.yaml",
                        base_dir=tmp_path)
    assert [str(error) for error in caught.value.errors] == [
        "deep.yaml:2: the file is nested too deeply: more than 50 levels of lists and mappings inside each other"]
    block = "format: egov-catalogue/1\nprocedures:\n" + "".join("  " * depth + "-\n" for depth in range(1, 60))
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(block, source="deep.yaml", base_dir=tmp_path)
    assert [(e.line, e.message.split(":")[0]) for e in caught.value.errors] == [
        (52, "the file is nested too deeply")]  # the 51st level (the root mapping is the 1st) opens there


def test_aliases_that_loop_or_explode_in_the_eform_are_reported(tmp_path):
    looping = EFORM.replace("child_full_name: {type: string}", "child_full_name: &field {type: object, "
                            "properties: {inner: *field}}")
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(looping, source="bad.yaml", base_dir=tmp_path)
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("procedures[0].versions[0].form_schema", "an alias refers to the list or mapping that contains it (*name "
                                                  "inside &name): the e-form cannot be circular")]
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"l{n}: &l{n} [*l{n - 1}, *l{n - 1}, *l{n - 1}, *l{n - 1}, *l{n - 1}, *l{n - 1}, *l{n - 1}, *l{n - 1}, "
        f"*l{n - 1}, *l{n - 1}]" for n in range(1, 9)]  # 10^9 values once expanded
    exploding = EFORM.replace("child_full_name: {type: string}", "child_full_name: {type: string, enum: *l8}").replace(
        "        form_schema:\n", "        form_schema:\n          $defs: {"
        + ", ".join(levels) + "}\n")
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(exploding, source="bad.yaml", base_dir=tmp_path)
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("procedures[0].versions[0].form_schema",
         "too large: with its aliases expanded it has more than 100,000 values")]


def test_the_import_command_reports_a_bad_date_and_deep_nesting_in_one_line_each(db, tmp_path, capsys):
    from egov.cli import main

    bad_date = tmp_path / "bad-date.yaml"
    bad_date.write_text(EFORM.replace("effective_from: 2025-07-01", "effective_from: 2026-02-30"), encoding="utf-8")
    deep = tmp_path / "deep.yaml"
    deep.write_text("format: egov-catalogue/1\nprocedures: " + "[" * 20000 + "\n", encoding="utf-8")
    for file, expected in [
            (bad_date, f"{bad_date}:7: procedures[0].versions[0].effective_from: “2026-02-30” is not a date that "
                       "exists: check the month and the day (YYYY-MM-DD)"),
            (deep, f"{deep}:2: the file is nested too deeply: more than 50 levels of lists and mappings inside "
                   "each other")]:
        with pytest.raises(SystemExit) as exit_info:
            main(["catalogue", "import", str(file)])
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert err.splitlines() == [expected, "egov catalogue: 1 error(s); nothing was imported"]
    assert not Procedure.objects.exists()
