"""Finding procedures: folded search (with or without diacritics and đ), filters that combine, pages by key, the
search page without JavaScript, clear messages for bad filters, and the procedure page in plain words."""
import datetime as dt
from decimal import Decimal

import pytest
import yaml
from django.conf import settings
from django.utils import translation

from egov.procedures import queries, services
from egov.procedures.catalogue import LIFE_EVENTS, CatalogueErrors, parse_catalogue
from egov.procedures.demo import DEMO_CATALOGUE
from egov.procedures.models import LifeEvent, Procedure, ProcedureVersion
from egov.registries.demo import DEMO_AGENCIES
from egov.registries.models import AdministrativeUnit, Agency

TODAY = dt.date(2026, 3, 2)
CURRENT = AdministrativeUnit.Generation.CURRENT
UNITS = {  # the demo agencies' units: two provinces and some of their wards
    "79": ("Thành phố Hồ Chí Minh", None), "40": ("Tỉnh Nghệ An", None),
    "26740": ("Phường Sài Gòn", "79"), "26743": ("Phường Bến Thành", "79"),
    "16681": ("Phường Thành Vinh", "40"), "16690": ("Phường Trường Vinh", "40"),
}


@pytest.fixture(autouse=True)
def english(settings):
    """Assertions read the English source messages (pages included)."""
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_choices():
    queries.forget_search_choices()
    yield
    queries.forget_search_choices()


@pytest.fixture
def catalogue(db):
    """The demo catalogue, implemented by the demo agencies, each serving its administrative unit."""
    units = {}
    for code, (name, parent) in UNITS.items():
        units[code] = AdministrativeUnit.objects.create(
            generation=CURRENT, level="commune" if parent else "province", code=code, name=name,
            parent=units.get(parent))
    agencies = {}
    for spec in DEMO_AGENCIES:
        agencies[spec.code] = Agency.objects.create(code=spec.code, name=spec.name, parent=agencies.get(spec.parent),
                                                    administrative_unit=units.get(spec.unit))
    services.import_catalogue(DEMO_CATALOGUE)
    return agencies


def codes(**filters) -> list[str]:
    return [procedure.code for procedure in queries.search_procedures(on=TODAY, **filters).procedures]


# --- Folding ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["dang ky khai sinh", "Đăng ký khai sinh", "ĐĂNG KÝ KHAI SINH", "đang ky khai sinh",
                                   "  Dang   Ky  Khai  Sinh ", "khai sinh dang ky", "1.001193"])
def test_birth_registration_is_found_with_or_without_diacritics_and_the_stroke_of_d(catalogue, typed):
    assert codes(text=typed) == ["1.001193"]


@pytest.mark.parametrize("typed", ["giay khai sinh", "Giấy khai sinh"])
def test_a_procedure_is_found_by_the_name_of_its_result(catalogue, typed):
    assert codes(text=typed) == ["1.001193"]


def test_a_procedure_is_found_by_its_sector_typed_in_the_search_box(catalogue):
    assert set(codes(text="ho tich")) == {"1.001193", "1.000894", "1.000656"}
    assert codes(text="ly lich tu phap") == codes(sector="Lý lịch tư pháp") != []


def test_every_word_must_match(catalogue):
    assert set(codes(text="dang ky")) == {"1.001193", "1.000894", "1.000656", "2.004227", "2.000720"}
    assert codes(text="dang ky khai sinh ket hon") == []


def test_the_search_text_follows_a_renamed_procedure(catalogue):
    procedure = Procedure.objects.get(code="1.000656")
    procedure.name = "Đăng ký khai tử lưu động"
    procedure.save(update_fields=["name"])
    assert codes(text="luu dong") == ["1.000656"]
    assert Procedure.objects.get(code="1.000656").search_text == "1.000656 dang ky khai tu luu dong"


def test_a_renamed_procedure_is_found_by_its_new_words_only(catalogue):
    procedure = Procedure.objects.get(code="1.000656")
    assert codes(text="khai tu") == ["1.000656"]
    procedure.name = "Ghi chú báo tử lưu động"
    procedure.save(update_fields=["name"])
    assert codes(text="bao tu luu dong") == ["1.000656"]
    assert codes(text="dang ky khai tu") == []
    assert codes(text="khai tu") == ["1.000656"]     # still: its result is "Trích lục khai tử"


def test_the_last_word_may_be_unfinished_the_others_are_whole_words(catalogue):
    assert codes(text="dang ky khai si") == ["1.001193"]     # still typing
    assert codes(text="dan ky khai sinh") == []             # "dan" is not a word of the name
    assert codes(text="001193") == ["1.001193"]             # a code by its number
    assert codes(text="1.0011") == ["1.001193"]


def test_punctuation_does_not_hide_a_word(catalogue):
    procedure = Procedure.objects.get(code="1.000656")
    procedure.name = "Đăng ký nhận cha, mẹ, con"
    procedure.save()
    assert codes(text="cha me con") == ["1.000656"]
    assert codes(text="nhan cha, me") == ["1.000656"]


def test_every_word_counts_however_the_search_is_run(catalogue, monkeypatch):
    """The word counts only choose between starting from the rarest word and walking the codes: same results."""
    expected = set(codes(text="dang ky"))
    for cost in (0, 10 ** 9):  # always from the rarest word; always along the codes
        monkeypatch.setattr(queries, "CANDIDATE_COST", cost)
        assert set(codes(text="dang ky")) == expected
        assert codes(text="dang ky khai sinh") == ["1.001193"]
        assert codes(text="dang ky khai sinh ket hon") == []


# --- Filters ---------------------------------------------------------------------------------------------------------

def test_filters_combine(catalogue):
    assert codes(life_event="birth") == ["1.001193", "2.004227"]
    assert codes(life_event="birth", sector="Hộ tịch") == ["1.001193"]
    assert codes(text="dang ky", sector="Hộ tịch") == ["1.000656", "1.000894", "1.001193"]
    assert codes(life_event="work", text="cap") == ["1.002153", "1.012267", "2.000488", "2.000815"]
    assert codes(life_event="work", text="cap", agency_code="000.00.14.H41") == ["1.012267"]


def test_agency_and_its_administrative_unit(catalogue):
    ward = set(codes(agency_code="000.00.61.H29"))
    assert "1.001193" in ward and "1.009994" not in ward
    nghe_an = set(codes(province_code="40"))   # agencies serving the province or one of its wards
    assert {"1.001193", "1.012267"} <= nghe_an
    assert "1.009994" not in nghe_an           # the construction permit is only issued in Ho Chi Minh City here
    assert "1.009994" in codes(province_code="79")
    assert codes(province_code="40", text="khai sinh") == ["1.001193"]


NATIONAL = ["1.002153", "2.002204"]  # the lawyer's certificate (Bộ Tư pháp) and the passport (Bộ Công an)


def test_a_province_filter_keeps_the_procedures_of_central_agencies(catalogue):
    # A citizen filtering by their province may still apply to a ministry: its procedures are open in every province.
    assert codes(province_code="01") == NATIONAL   # Hà Nội: no local agency in the demo, only the central ones
    ho_chi_minh = codes(province_code="79")
    assert set(NATIONAL) <= set(ho_chi_minh) and "1.009994" in ho_chi_minh
    assert "1.012267" not in ho_chi_minh           # Nghệ An's Department of Health serves Nghệ An only
    assert codes(province_code="40", text="ho chieu") == ["2.002204"]
    assert codes(province_code="40", agency_code="000.00.00.G09") == ["2.002204"]
    assert codes(province_code="40", agency_code="000.00.15.H29") == []   # another province's agency


def test_a_central_agencys_branch_in_a_province_and_a_provincial_agency_without_unit_are_not_national(catalogue):
    nghe_an = AdministrativeUnit.objects.get(generation=CURRENT, code="40")
    passport = ProcedureVersion.objects.get(procedure__code="2.002204")
    branch = Agency.objects.create(code="000.00.21.G09", name="Phòng Quản lý xuất nhập cảnh, Công an tỉnh Nghệ An",
                                   administrative_unit=nghe_an, parent=catalogue["000.00.00.G09"])
    unplaced = Agency.objects.create(code="000.00.13.H41", name="Sở Công Thương tỉnh Nghệ An",
                                     parent=catalogue["000.00.00.H41"])
    permit = ProcedureVersion.objects.get(procedure__code="1.009994")   # the construction permit, Hồ Chí Minh only
    permit.agencies.add(branch, unplaced)
    assert "1.009994" in codes(province_code="40")      # through the branch serving Nghệ An
    assert "1.009994" not in codes(province_code="01")  # neither the branch nor the unit-less H agency is national
    passport.agencies.set([branch])
    assert codes(province_code="01") == ["1.002153"]


def test_the_search_page_filtered_by_a_province_without_local_agencies_lists_the_national_procedures(client,
                                                                                                     catalogue):
    AdministrativeUnit.objects.create(generation=CURRENT, level="province", code="01", name="Thành phố Hà Nội")
    html = client.get("/procedures/", {"province": "01"}).content.decode()
    assert "2 procedures found" in html
    assert all(f'href="/procedures/{code}/"' in html for code in NATIONAL)


def test_pages_by_key_cover_every_match_once(catalogue):
    seen, after = [], ""
    while True:
        page = queries.search_procedures(text="dang ky", after=after, on=TODAY, limit=2)
        assert page.total == 5
        seen.extend(procedure.code for procedure in page.procedures)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 5


def test_a_first_page_is_one_query_with_its_count_and_a_later_page_counts_in_a_second(catalogue,
                                                                                    django_assert_num_queries):
    queries.word_counts()  # read once per process, like the filter lists (they only choose how to search)
    with django_assert_num_queries(1):  # the page, with each procedure's version in force: no N+1
        page = queries.search_procedures(text="dang ky", life_event="birth", sector="Hộ tịch", on=TODAY)
    assert [(hit.code, hit.online_level, hit.duration_days, hit.total_fee) for hit in page.procedures] == [
        ("1.001193", "full", Decimal("1.00"), 0)]
    with django_assert_num_queries(1):  # a page of 2 out of 5: the count comes with it
        page = queries.search_procedures(text="dang ky", on=TODAY, limit=2)
    assert page.total == 5 and page.next_after == "1.000894"
    with django_assert_num_queries(2):  # the next page, and the count of every match
        page = queries.search_procedures(text="dang ky", on=TODAY, limit=2, after="1.000894")
    assert page.total == 5 and [hit.code for hit in page.procedures] == ["1.001193", "2.000720"]
    with django_assert_num_queries(2):  # a province (or agency) filter first reads the ids of its agencies
        assert len(queries.search_procedures(text="khai sinh", province_code="79", on=TODAY).procedures) == 1


def test_a_repeated_search_is_answered_from_the_cache_and_a_changed_catalogue_is_searched_again(
        catalogue, django_assert_num_queries):
    queries.word_counts()
    first = queries.find_procedures(text="dang ky", on=TODAY)
    with django_assert_num_queries(0):  # the same folded words and filters: the page kept a minute
        again = queries.find_procedures(text="  Đăng   KÝ ", on=TODAY)
    assert again == first and again.total == 5
    with django_assert_num_queries(1):  # other filters, another page
        queries.find_procedures(text="dang ky", life_event="birth", on=TODAY)

    procedure = Procedure.objects.get(code="2.000488")
    procedure.name = "Đăng ký cấp phiếu lý lịch tư pháp"  # a change to the catalogue is seen at once
    procedure.save()
    assert queries.find_procedures(text="dang ky", on=TODAY).total == 6


def test_with_the_cache_off_every_search_reads_the_database(catalogue, settings, django_assert_num_queries):
    settings.SEARCH_CACHE_SECONDS = 0
    queries.word_counts()
    queries.find_procedures(text="dang ky", on=TODAY)
    with django_assert_num_queries(1):
        assert queries.find_procedures(text="dang ky", on=TODAY).total == 5


# --- The catalogue format --------------------------------------------------------------------------------------------

def test_the_filters_list_sectors_agencies_and_provinces_in_vietnamese_alphabetical_order(catalogue):
    from egov.kernel.text import vietnamese_key

    AdministrativeUnit.objects.create(generation=CURRENT, level="province", code="48", name="Thành phố Đà Nẵng")
    AdministrativeUnit.objects.create(generation=CURRENT, level="province", code="01", name="Thành phố Hà Nội")
    choices = queries.search_choices()
    assert [name for _code, name in choices.provinces] == [
        "Thành phố Đà Nẵng", "Thành phố Hà Nội", "Thành phố Hồ Chí Minh", "Tỉnh Nghệ An"]  # "Đ" after "D", not after "Z"
    for names in (choices.sectors, [name for _code, name in choices.agencies]):
        assert names == sorted(names, key=vietnamese_key) and len(names) > 1


def test_life_events_of_the_format_are_those_of_the_model():
    assert LIFE_EVENTS == tuple(LifeEvent.values)


def test_an_unknown_or_repeated_life_event_is_named_with_its_line():
    text = DEMO_CATALOGUE.read_text(encoding="utf-8").replace("life_events: [birth]\n",
                                                              "life_events: [birth, wedding, birth]\n", 1)
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(text, source="demo.yaml", base_dir=DEMO_CATALOGUE.parent)
    messages = [str(error) for error in caught.value.errors]
    assert any("life_events[1]" in m and "unknown life event “wedding”" in m for m in messages), messages
    assert any("life_events[2]" in m and "appears twice" in m for m in messages), messages


def test_importing_sets_the_life_events_and_exports_them_again(catalogue, tmp_path):
    birth = Procedure.objects.get(code="1.001193")
    assert birth.life_event_keys() == ["birth"]
    text = DEMO_CATALOGUE.read_text(encoding="utf-8").replace("life_events: [birth]\n",
                                                              "life_events: [moving, birth]\n", 1)
    services.import_catalogue(_with_base(text, tmp_path))
    assert Procedure.objects.get(code="1.001193").life_event_keys() == ["birth", "moving"]
    exported = yaml.safe_load(services.export_catalogue(tmp_path / "out").read_text(encoding="utf-8"))
    birth = next(procedure for procedure in exported["procedures"] if procedure["code"] == "1.001193")
    assert birth["life_events"] == ["birth", "moving"]


def _with_base(text, tmp_path):
    """The changed catalogue as a file beside the demo's BPMN files (which it names by relative path)."""
    import shutil

    shutil.copytree(DEMO_CATALOGUE.parent / "bpmn", tmp_path / "bpmn")
    path = tmp_path / "catalogue.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- The search page -------------------------------------------------------------------------------------------------

def test_the_search_page_works_without_javascript(client, catalogue):
    response = client.get("/procedures/", {"q": "dang ky khai sinh"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script" not in html
    assert 'href="/procedures/1.001193/"' in html and "Đăng ký khai sinh" in html
    assert "1 procedure found" in html
    assert 'value="dang ky khai sinh"' in html  # what was typed stays in the box


def test_the_empty_search_page_lists_every_procedure_and_the_life_events(client, catalogue):
    html = client.get("/procedures/").content.decode()
    assert "11 procedures found" in html
    assert 'href="/procedures/?life_event=birth"' in html and "Having a baby" in html


def test_the_search_page_pages_by_key(client, catalogue):
    # The page size is 20 and the demo has 11 procedures: one page, no pager, until a cursor is given.
    html = client.get("/procedures/", {"q": "dang ky"}).content.decode()
    assert "Next page" not in html
    html = client.get("/procedures/", {"q": "dang ky", "after": "1.000894"}).content.decode()
    assert "1.000656" not in html and "1.001193" in html and "First page" in html


@pytest.mark.parametrize(("params", "message"), [
    ({"life_event": "wedding"}, "“wedding” is not a life event of the list"),
    ({"sector": "Nope"}, "There is no sector “Nope” in the catalogue"),
    ({"agency": "000.00.99.H99"}, "No procedure is handled by an agency with the code “000.00.99.H99”"),
    ({"province": "99"}, "There is no province with the code “99”"),
    ({"after": "'; drop table"}, "This results page does not exist"),
    ({"q": "x" * 201}, "Type at most 200 characters."),
])
def test_a_bad_filter_gets_a_clear_message(client, catalogue, params, message):
    response = client.get("/procedures/", params)
    assert response.status_code == 400
    assert message in response.content.decode()


# --- The procedure page ----------------------------------------------------------------------------------------------

def test_the_procedure_page_says_fees_time_documents_and_where_to_go(client, catalogue):
    response = client.get("/procedures/2.000488/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "200.000 đồng" in html                         # fees in VND
    assert "working days" in html                         # time in working days
    assert "Documents to bring or attach" in html
    assert 'href="/apply/2.000488/"' in html               # online: the button to apply
    assert "Open on working days 07:30–11:30 and 13:00–17:00" in html
    assert "Level 2: identity verified" in html or "Level 1" in html


def test_the_procedure_page_says_who_can_apply_and_whether_online_one_may_apply_for_someone_else(client, catalogue):
    permit = client.get("/procedures/1.009994/").content.decode()
    assert "Chủ đầu tư công trình xây dựng" in permit and "a parent for a child" not in permit
    assert "apply for someone else" not in permit
    birth = client.get("/procedures/1.001193/").content.decode()
    assert "Cha, mẹ, ông, bà hoặc người thân thích khác của trẻ" in birth
    assert "Online, you can also apply for someone else, such as your child" in birth


def test_the_procedure_page_gives_each_agencys_address_and_phone_when_known(client, catalogue):
    from egov.registries.models import Agency

    ward = Agency.objects.get(code="000.00.61.H29")
    Agency.objects.filter(pk=ward.pk).update(address="135 Nam Kỳ Khởi Nghĩa, phường Sài Gòn", phone="028 3829 1234")
    html = client.get("/procedures/1.001193/").content.decode()
    assert 'Address: <span lang="vi">135 Nam Kỳ Khởi Nghĩa, phường Sài Gòn</span>' in html
    assert '<a href="tel:02838291234">028 3829 1234</a>' in html


def test_the_birth_registration_page_offers_to_reuse_the_marriage_certificate(client, catalogue):
    html = client.get("/procedures/1.001193/").content.decode()
    assert "1 working day" in html and "Free" in html
    assert "You can reuse your earlier result of" in html and 'href="/procedures/1.000894/"' in html
    assert "Phường Sài Gòn, Thành phố Hồ Chí Minh" in html
    assert "Luật Hộ tịch số 60/2014/QH13" in html


def test_a_procedure_not_online_has_no_apply_button(client, catalogue):
    ProcedureVersion.objects.filter(procedure__code="2.000815").update(online_level="none")
    html = client.get("/procedures/2.000815/").content.decode()
    assert "/apply/" not in html and "Not online" in html


def test_an_unknown_procedure_is_a_404(client, catalogue):
    assert client.get("/procedures/9.999999/").status_code == 404


# --- Catalogue text on a page in English ----------------------------------------------------------------------------

def test_on_an_english_page_procedure_names_and_sectors_are_marked_as_vietnamese(client, catalogue):
    """Procedures are published in Vietnamese only: a screen reader reads them with Vietnamese pronunciation."""
    html = client.get("/procedures/", {"q": "dang ky khai sinh"}).content.decode()
    assert '<h3 lang="vi"><a href="/procedures/1.001193/">Đăng ký khai sinh</a></h3>' in html
    assert '<span lang="vi">Hộ tịch</span>' in html

    detail = client.get("/procedures/1.001193/").content.decode()
    assert '<h1><span lang="vi">Đăng ký khai sinh</span></h1>' in detail
    assert "Procedures are published in Vietnamese" in detail


def test_on_a_vietnamese_page_catalogue_text_needs_no_mark(client, catalogue):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    with translation.override("vi"):
        html = client.get("/procedures/", {"q": "dang ky khai sinh"}).content.decode()
        detail = client.get("/procedures/1.001193/").content.decode()
    assert '<html lang="vi"' in html and 'lang="vi"><a' not in html and '<span lang="vi">' not in html
    assert "<h1>Đăng ký khai sinh</h1>" in detail and '<span lang="vi">' not in detail
