"""The word index of the catalogue (ProcedureWord): exactly the words of each procedure's code, name, sector and the
names of its results, kept so on every save and import, so that a renamed procedure is found by its new words only."""
from egov.procedures import services
from egov.procedures.demo import DEMO_CATALOGUE
from egov.procedures.models import Procedure, ProcedureWord, procedure_words, search_words


def words_of(procedure: Procedure) -> set[str]:
    return set(ProcedureWord.objects.filter(procedure=procedure).values_list("word", flat=True))


def test_words_are_folded_split_on_punctuation_and_codes_are_kept_whole_and_by_parts():
    assert search_words("Nhận cha, mẹ, con") == ["nhan", "cha", "me", "con"]
    assert procedure_words("1.001193", "Đăng ký khai sinh") == ["1.001193", "dang", "ky", "khai", "sinh", "1", "001193"]


def test_the_sector_and_the_results_are_search_words_after_the_code_and_name():
    assert procedure_words("1.001193", "Đăng ký khai sinh", "Hộ tịch", ["Giấy khai sinh", "Trích lục"]) == [
        "1.001193", "dang", "ky", "khai", "sinh", "1", "001193", "ho", "tich", "giay", "trich", "luc"]


def test_a_result_is_named_up_to_what_qualifies_it():
    assert procedure_words("1", "X", "", ["Giấy khai sinh (bản chính điện tử) và số định danh",
                                          "Bản sao, bản điện tử; bản giấy"]) == ["1", "x", "giay", "khai", "sinh",
                                                                                 "ban", "sao"]


def test_no_more_words_than_the_row_holds_and_the_index_gets_the_same():
    many = [f"Kết quả số {n:04d}" for n in range(400)]
    words = procedure_words("9.000001", "Cấp phép", "Xây dựng", many)
    assert len(f" {' '.join(words)} ") <= 1500 and words[:7] == ["9.000001", "cap", "phep", "9", "000001", "xay",
                                                                  "dung"]


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


def test_a_procedure_moved_to_another_sector_is_found_by_its_words(db):
    procedure = Procedure.objects.create(code="9.000001", name="Cấp giấy phép", sector="Xây dựng")
    procedure.sector = "Hoạt động xây dựng"
    procedure.save(update_fields=["sector"])
    assert words_of(procedure) == {"9.000001", "9", "000001", "cap", "giay", "phep", "hoat", "dong", "xay", "dung"}


def test_saving_without_a_change_of_words_writes_no_word_rows(db, django_assert_num_queries):
    procedure = Procedure.objects.create(code="9.000001", name="Cấp giấy phép", sector="Xây dựng")
    with django_assert_num_queries(2):   # its results' names, then the row
        procedure.save(update_fields=["name"])


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
    assert ProcedureWord.objects.count() == sum(len(procedure_words(p.code, p.name, p.sector, p.result_names()))
                                                for p in Procedure.objects.all())


def test_an_imported_procedure_is_found_by_its_sector_and_its_result(demo_agencies):
    services.import_catalogue(DEMO_CATALOGUE)
    birth = Procedure.objects.get(code="1.001193")
    assert {"ho", "tich", "giay", "khai", "sinh"} <= words_of(birth)
    assert "dien" not in words_of(birth)      # "(bản chính điện tử)" qualifies the result: not a search word
    assert all(set(p.words.split()) == words_of(p) for p in Procedure.objects.all())
