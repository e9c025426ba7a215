# ruff: noqa: F811  (fixtures imported from tests/dossiers/conftest.py are used as test arguments)
"""The concerned agency of feedback is named by typing part of its name, never chosen from a list of every agency.

Without JavaScript the form's own rounds find it: a name that one agency matches takes it; several are listed to
choose from (at most 20); none is said; everything typed is kept. With JavaScript the picker asks
``/feedback/agencies.json`` as one types. The posted value is the agency's code, checked; the page reads no agency,
and the number of queries does not grow with the number of agencies. The search folds case, diacritics and đ."""
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.kernel.text import fold
from egov.portal.feedback_models import Feedback
from egov.registries import queries as registry_queries
from egov.registries.models import Agency
from tests.dossiers.conftest import calendar_2026, english  # noqa: F401  (fixtures)

URL = "/feedback/"
SUGGEST = "/feedback/agencies.json"
TYPED = {"topic": "regulation", "subject": "Thủ tục chứng thực bản sao", "text": "Phí chứng thực quá cao.",
         "full_name": "Lê Thị Hoa", "email": "hoa@example.org"}


@pytest.fixture
def agencies(db):
    nghe_an = Agency.objects.create(code="000.00.00.H41", name="Ủy ban nhân dân tỉnh Nghệ An")
    hcm = Agency.objects.create(code="000.00.00.H29", name="Ủy ban nhân dân Thành phố Hồ Chí Minh")
    return {
        "nghe_an": nghe_an, "hcm": hcm,
        "justice_na": Agency.objects.create(code="000.00.12.H41", name="Sở Tư pháp tỉnh Nghệ An", parent=nghe_an),
        "justice_hcm": Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp Thành phố Hồ Chí Minh",
                                             parent=hcm),
        "health_na": Agency.objects.create(code="000.00.14.H41", name="Sở Y tế tỉnh Nghệ An", parent=nghe_an),
        "dong_anh": Agency.objects.create(code="000.00.00.H01", name="Ủy ban nhân dân huyện Đông Anh"),
        "closed": Agency.objects.create(code="000.00.13.H41", name="Sở Tư pháp cũ tỉnh Nghệ An", is_active=False),
    }


def many(count: int, *, name="Phòng Tư pháp huyện số {n}", level1="H99") -> list[Agency]:
    return [Agency.objects.create(code=f"000.{n // 100:02d}.{n % 100:02d}.{level1}", name=name.format(n=n))
            for n in range(1, count + 1)]


def post(client, **fields):
    return client.post(URL, {**TYPED, **fields})


def radios(page: str) -> list[str]:
    import re

    return re.findall(r'name="agency_choice" id="[^"]+" value="([^"]+)"', page)


# --- Without JavaScript: the form's rounds ---------------------------------------------------------------------------

def test_the_page_reads_no_agency_and_lists_none(client, agencies):
    many(30)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(URL).content.decode()
    assert not [q for q in queries.captured_queries if "registries_agency" in q["sql"]]
    assert "Phòng Tư pháp" not in page and "Sở Tư pháp" not in page
    assert 'name="agency_name"' in page and 'data-agency-url="/feedback/agencies.json"' in page


def test_a_name_typed_without_diacritics_that_one_agency_matches_takes_it(client, agencies, calendar_2026):
    response = post(client, agency_name="so tu phap NGHE an")
    assert response.status_code == 302
    assert Feedback.objects.get().agency == agencies["justice_na"]


def test_the_agency_named_exactly_wins_over_longer_names_that_hold_it(client, agencies, calendar_2026):
    Agency.objects.create(code="000.00.21.H41", name="Văn phòng Sở Tư pháp tỉnh Nghệ An")
    response = post(client, agency_name="  Sở Tư pháp   tỉnh Nghệ An ")
    assert response.status_code == 302
    assert Feedback.objects.get().agency == agencies["justice_na"]


def test_several_matches_are_listed_with_everything_typed_kept_then_one_is_chosen(client, agencies, calendar_2026):
    response = post(client, agency_name="tu phap", phone="0903 123 456")
    page = response.content.decode()
    assert response.status_code == 400 and not Feedback.objects.exists()
    assert "Several agencies match “tu phap”: choose yours from the list below" in page
    # Shorter names first; the inactive agency is not offered.
    assert radios(page) == ["000.00.12.H41", "000.00.12.H29"]
    assert "Sở Tư pháp tỉnh Nghệ An <span class=\"muted\">(Ủy ban nhân dân tỉnh Nghệ An)</span>" in page
    for value in ("Thủ tục chứng thực bản sao", "Phí chứng thực quá cao.", "Lê Thị Hoa", "hoa@example.org",
                  "0903 123 456", 'value="tu phap"'):
        assert value in page
    assert 'value="regulation" id="id_topic_1" required checked' in page

    response = post(client, agency_name="tu phap", agency_choice="000.00.12.H29", phone="0903 123 456")
    assert response.status_code == 302
    assert Feedback.objects.get().agency == agencies["justice_hcm"]


def test_at_most_twenty_are_listed_and_the_page_says_there_are_more(client, agencies, calendar_2026):
    many(25)
    page = post(client, agency_name="phong tu phap huyen").content.decode()
    assert len(radios(page)) == 20
    assert "More agencies match. If yours is not listed, type more of its name." in page
    # "… số 17" is also the start of "… số 170"-like names elsewhere; named exactly, it is taken.
    Agency.objects.create(code="000.01.70.H98", name="Phòng Tư pháp huyện số 170")
    response = post(client, agency_name="phong tu phap huyen so 17")
    assert response.status_code == 302 and Feedback.objects.get().agency.code == "000.00.17.H99"


def test_a_name_no_agency_has_is_said_and_what_was_typed_stays(client, agencies):
    response = post(client, agency_name="bo ngoai giao")
    page = response.content.decode()
    assert response.status_code == 400
    assert ("No agency&#x27;s name contains “bo ngoai giao”. Check the spelling, or type fewer words of the name."
            in page)
    assert 'value="bo ngoai giao"' in page and "Phí chứng thực quá cao." in page and radios(page) == []


@pytest.mark.parametrize("field", ["agency", "agency_choice"])
@pytest.mark.parametrize("code", ["999.99.99.H99", "000.00.13.H41", "<script>", "000.00.12.H41\x00", "x" * 5000])
def test_a_forged_or_inactive_code_is_a_field_error(client, agencies, field, code):
    response = post(client, agency_name="Sở Tư pháp tỉnh Nghệ An", **{field: code})
    page = response.content.decode()
    assert response.status_code == 400 and not Feedback.objects.exists()
    assert '<a href="#id_agency">Concerned agency</a>: This is not an agency of the list' in page


def test_the_agency_found_is_kept_while_other_fields_are_corrected(client, agencies, calendar_2026):
    response = post(client, agency_name="y te nghe an", full_name="")
    page = response.content.decode()
    assert response.status_code == 400 and "Enter your name, so that the agency can answer you." in page
    # The text box now shows the agency's name, its code goes with it.
    assert 'name="agency_name" value="Sở Y tế tỉnh Nghệ An"' in page
    assert 'name="agency" value="000.00.14.H41"' in page
    response = post(client, agency_name="Sở Y tế tỉnh Nghệ An", agency="000.00.14.H41")
    assert response.status_code == 302 and Feedback.objects.get().agency == agencies["health_na"]


def test_a_name_typed_over_the_agency_shown_is_looked_up_instead(client, agencies, calendar_2026):
    response = post(client, agency_name="tu phap ho chi minh", agency="000.00.14.H41")
    assert response.status_code == 302 and Feedback.objects.get().agency == agencies["justice_hcm"]


def test_about_a_dossier_what_was_typed_in_the_agency_box_is_not_looked_up(client, agencies):
    response = post(client, topic="dossier", agency_name="tu phap", dossier_code="", subject="")
    page = response.content.decode()
    assert "Several agencies match" not in page and radios(page) == []


def test_the_queries_do_not_grow_with_the_agencies(client, agencies):
    def rounds() -> list[int]:
        counts = []
        for fields in ({"agency_name": "tu phap"}, {"agency_name": "bo ngoai giao"},
                       {"agency_name": "Sở Tư pháp tỉnh Nghệ An", "agency": "000.00.12.H41", "full_name": ""}):
            post(client, **fields)  # reads the names once if they changed
            with CaptureQueriesContext(connection) as queries:
                post(client, **fields)
            counts.append(len(queries))
        with CaptureQueriesContext(connection) as queries:
            client.get(URL)
        return counts + [len(queries)]

    few = rounds()
    many(150)
    assert rounds() == few


# --- The suggestions (JSON) ------------------------------------------------------------------------------------------

def suggest(client, q, **more):
    response = client.get(SUGGEST, {"q": q, **more})
    return response.status_code, json.loads(response.content)


@pytest.mark.parametrize("typed", ["so tu phap nghe", "SỞ TƯ PHÁP NGHỆ", "Sở  Tư\tpháp nghe", "nghe an tu phap",
                                   "SO TU PHAP NGHE"])
def test_suggestions_fold_case_diacritics_and_spacing_and_take_words_in_any_order(client, agencies, typed):
    status, body = suggest(client, typed)
    assert status == 200
    assert body == {"agencies": [{"code": "000.00.12.H41", "name": "Sở Tư pháp tỉnh Nghệ An",
                                  "parent": "Ủy ban nhân dân tỉnh Nghệ An"}], "more": False}


def test_suggestions_fold_d_with_stroke_both_ways(client, agencies):
    for typed in ("dong anh", "Đông Anh", "đong anh"):
        assert [a["code"] for a in suggest(client, typed)[1]["agencies"]] == ["000.00.00.H01"]


def test_suggestions_rank_the_exact_name_then_its_prefix_then_a_word_then_inside_then_words_apart(client, db):
    for code, name in (("000.00.01.H98", "Sở Tư pháp tỉnh Nghệ An"), ("000.00.02.H98", "Pháp chế và Tư vấn"),
                       ("000.00.03.H98", "Viện Kiểm sát-tư pháp"), ("000.00.04.H98", "Phòng Tư pháp"),
                       ("000.00.05.H98", "Tư pháp hộ tịch"), ("000.00.06.H98", "Tư pháp"),
                       ("000.00.07.H98", "Cục Thuế")):
        Agency.objects.create(code=code, name=name)
    assert [a["name"] for a in suggest(client, "tu phap")[1]["agencies"]] == [
        "Tư pháp", "Tư pháp hộ tịch", "Phòng Tư pháp", "Sở Tư pháp tỉnh Nghệ An", "Viện Kiểm sát-tư pháp",
        "Pháp chế và Tư vấn"]
    # Words apart only: shorter names first.
    assert [a["name"] for a in suggest(client, "phap tu")[1]["agencies"]] == [
        "Tư pháp", "Phòng Tư pháp", "Tư pháp hộ tịch", "Pháp chế và Tư vấn", "Viện Kiểm sát-tư pháp",
        "Sở Tư pháp tỉnh Nghệ An"]


def test_suggestions_are_limited_to_twenty_and_say_there_are_more(client, db):
    many(45)
    status, body = suggest(client, "tu phap")
    assert status == 200 and len(body["agencies"]) == 20 and body["more"] is True
    assert len(suggest(client, "tu phap", limit="5")[1]["agencies"]) == 5
    assert len(suggest(client, "tu phap", limit="1000")[1]["agencies"]) == 20
    assert len(suggest(client, "tu phap", limit="0")[1]["agencies"]) == 1
    assert suggest(client, "phong tu phap huyen so 45")[1] == {
        "agencies": [{"code": "000.00.45.H99", "name": "Phòng Tư pháp huyện số 45", "parent": ""}], "more": False}


@pytest.mark.parametrize("typed", ["", "   ", "\x00", "\x1b[2J", "\u202e\u0301", "..", "%", "_", "'; DROP TABLE x; --",
                                   "🙂", "\ufffd", "tu\x00phap\x7f", "a" * 255])
def test_odd_text_gets_an_answer_never_an_error(client, agencies, typed):
    status, body = suggest(client, typed)
    assert status == 200 and set(body) == {"agencies", "more"}
    assert all(a["code"] != "000.00.13.H41" for a in body["agencies"])  # never an inactive agency


def test_control_characters_count_as_spaces(client, agencies):
    assert [a["code"] for a in suggest(client, "y\x00te\x1fnghe")[1]["agencies"]] == ["000.00.14.H41"]


def test_text_longer_than_any_name_or_a_limit_that_is_no_number_is_a_problem(client, agencies):
    response = client.get(SUGGEST, {"q": "a" * 256})
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["detail"] == "Type at most 255 characters of the agency's name."
    for limit in ("abc", "-1", "1.5", "٣", "99999999999999999999"):
        response = client.get(SUGGEST, {"q": "tu phap", "limit": limit})
        assert response.status_code == 400, limit
    assert client.post(SUGGEST, {"q": "tu phap"}).status_code == 405


def test_suggestions_are_public_cacheable_and_one_query_and_a_count(client, agencies):
    suggest(client, "tu phap")  # the names read once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SUGGEST, {"q": "tu phap"})
    assert response["Cache-Control"] == "public, max-age=300"
    # The rate counter (one upsert; the first hit of a window also prunes) and the agencies with their parents.
    assert len(queries) <= 3
    with CaptureQueriesContext(connection) as queries:
        client.get(SUGGEST, {"q": "  "})
    assert len(queries) == 0


def test_too_many_suggestions_from_one_address_get_429(client, agencies, monkeypatch):
    from egov.portal import feedback_queries

    monkeypatch.setattr(feedback_queries, "AGENCY_SEARCHES_PER_MINUTE", 3)
    assert [client.get(SUGGEST, {"q": "tu phap"}).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(SUGGEST, {"q": "tu phap"})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert "Too many searches" in json.loads(response.content)["title"]


# --- The search itself -----------------------------------------------------------------------------------------------

def test_a_new_agency_is_found_at_once_and_a_renamed_one_not_under_its_old_name(agencies):
    assert registry_queries.search_agencies("y te").agencies == [agencies["health_na"]]
    created = Agency.objects.create(code="000.00.14.H29", name="Sở Y tế Thành phố Hồ Chí Minh")
    assert registry_queries.search_agencies("y te").agencies == [agencies["health_na"], created]
    created.name = "Sở Công Thương Thành phố Hồ Chí Minh"
    created.save(update_fields=["name"])
    assert registry_queries.search_agencies("cong thuong").agencies == [created]
    # Changed by update(), which keeps no folded copy: never shown under the words it lost.
    Agency.objects.filter(pk=created.pk).update(name="Sở Công Thương Thành phố Hồ Chí Minh")
    Agency.objects.filter(pk=agencies["health_na"].pk).update(is_active=False)
    assert registry_queries.search_agencies("y te").agencies == []


def test_the_exact_count_counts_the_agencies_named_exactly_what_was_typed(db):
    Agency.objects.create(code="000.00.31.H41", name="Phòng Tư pháp")
    Agency.objects.create(code="000.00.31.H29", name="Phòng Tư pháp")
    Agency.objects.create(code="000.00.32.H29", name="Phòng Tư pháp quận 1")
    found = registry_queries.search_agencies("phong tu phap")
    assert found.exact == 2 and len(found.agencies) == 3


names = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["Sở", "Tư", "pháp", "Tư pháp", "Đà", "Nẵng", "Y", "tế", "a", "tư", "ĐÀ"]),
                min_size=1, max_size=5).map(" ".join), st.lists(names, max_size=8))
def test_every_agency_found_holds_every_word_and_none_that_does_is_missed(db, query, texts):
    Agency.objects.all().delete()
    named = {f"000.00.{n:02d}.H98": text for n, text in enumerate(texts + [query, "x " + query])}
    Agency.objects.bulk_create([Agency(code=code, name=text, folded_name=fold(text)) for code, text in named.items()])
    words = registry_queries.agency_query_words(query)
    found = registry_queries.search_agencies(query)
    assert {a.code for a in found.agencies} == {code for code, text in named.items()
                                               if all(word in fold(text) for word in words)}
    assert not found.more
