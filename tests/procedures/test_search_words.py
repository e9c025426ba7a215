"""The word index of the catalogue (ProcedureWord): exactly the words of each procedure's code and name, kept so on
every save and import, so that a renamed procedure is found by its new words only."""
from egov.procedures import services
from egov.procedures.demo import DEMO_CATALOGUE
from egov.procedures.models import Procedure, ProcedureWord, procedure_words, search_words


def words_of(procedure: Procedure) -> set[str]:
    return set(ProcedureWord.objects.filter(procedure=procedure).values_list("word", flat=True))


def test_words_are_folded_split_on_punctuation_and_codes_are_kept_whole_and_by_parts():
    assert search_words("Nhận cha, mẹ, con") == ["nhan", "cha", "me", "con"]
    assert procedure_words("1.001193", "Đăng ký khai sinh") == ["1.001193", "dang", "ky", "khai", "sinh", "1", "001193"]


def test_a_new_procedure_is_indexed_by_its_words(db):
    procedure = Procedure.objects.create(code="9.000001", name="Cấp giấy phép xây dựng", sector="Xây dựng")
    assert words_of(procedure) == {"9.000001", "9", "000001", "cap", "giay", "phep", "xay", "dung"}
    assert procedure.words == " 9.000001 cap giay phep xay dung 9 000001 "


def test_a_renamed_procedure_has_its_new_words_only(db):
    procedure = Procedure.objects.create(code="9.000001", name="Cấp giấy phép xây dựng", sector="Xây dựng")
    procedure.name = "Gia hạn giấy phép xây dựng"
    procedure.save(update_fields=["name"])
    assert words_of(procedure) == {"9.000001", "9", "000001", "gia", "han", "giay", "phep", "xay", "dung"}
    assert Procedure.objects.get(pk=procedure.pk).words == " 9.000001 gia han giay phep xay dung 9 000001 "


def test_saving_other_fields_leaves_the_words_alone(db, django_assert_num_queries):
    procedure = Procedure.objects.create(code="9.000001", name="Cấp giấy phép", sector="Xây dựng")
    procedure.sector = "Hoạt động xây dựng"
    with django_assert_num_queries(1):
        procedure.save(update_fields=["sector"])
    assert words_of(procedure) == {"9.000001", "9", "000001", "cap", "giay", "phep"}


def test_importing_a_renamed_procedure_replaces_its_words(demo_agencies, tmp_path):
    import shutil

    services.import_catalogue(DEMO_CATALOGUE)
    birth = Procedure.objects.get(code="1.001193")
    assert "sinh" in words_of(birth)
    text = DEMO_CATALOGUE.read_text(encoding="utf-8").replace("name: Đăng ký khai sinh\n",
                                                              "name: Đăng ký khai sinh lưu động\n", 1)
    assert "lưu động" in text
    shutil.copytree(DEMO_CATALOGUE.parent / "bpmn", tmp_path / "bpmn")
    (tmp_path / "catalogue.yaml").write_text(text, encoding="utf-8")
    services.import_catalogue(tmp_path / "catalogue.yaml")
    assert {"luu", "dong", "sinh"} <= words_of(birth)
    assert ProcedureWord.objects.count() == sum(len(procedure_words(p.code, p.name)) for p in Procedure.objects.all())
