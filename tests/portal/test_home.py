# ruff: noqa: F811  (fixtures imported from tests/dossiers/conftest.py are used as test arguments)
"""The home page (trang chủ) serves the citizen first: a procedure search that works without JavaScript, the life
events, the dossier look-up, their own dossiers (or sign-in and registration), feedback; the registries' figures
come last, written the way the visitor's language writes numbers; nothing of the administrators' in the main content.
"""
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse

from egov.procedures.models import LifeEvent
from tests.dossiers.conftest import agency, citizen, officers, signed_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

FIGURES = {"provinces": 34, "communes": 3321, "agencies": 1250}


class Page(HTMLParser):
    """What a test reads of a page: the links of <main>, its headings in order, its forms and their fields."""

    def __init__(self, html: str):
        super().__init__()
        self.in_main = False
        self.links: list[str] = []
        self.headings: list[str] = []
        self.forms: list[dict] = []
        self.labels: dict[str, str] = {}
        self._label_for = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main = True
        if not self.in_main:
            return
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(tag)
        elif tag == "form":
            self.forms.append({**attrs, "inputs": []})
        elif tag in ("input", "select", "textarea") and self.forms:
            self.forms[-1]["inputs"].append(attrs)
        elif tag == "label":
            self._label_for = attrs.get("for")

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False
        elif tag == "label":
            self._label_for = None

    def handle_data(self, data):
        if self._label_for:
            self.labels[self._label_for] = self.labels.get(self._label_for, "") + data


@pytest.fixture
def figures(monkeypatch):
    from egov.portal import queries

    monkeypatch.setattr(queries, "count_home_figures", lambda: dict(FIGURES))


def home(client, language="vi"):
    """The home page in ``language``, chosen the way the language switch chooses it (browsers' Accept-Language is
    not followed: the portal opens in Vietnamese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    return html


def main_of(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


# --- Search ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_search_form_gets_the_procedure_search_page_with_its_query_field(client, language):
    page = Page(home(client, language))
    searches = [form for form in page.forms if form.get("action") == reverse("portal:procedure_search")]
    assert len(searches) == 1
    search = searches[0]
    assert search.get("method") == "get" and search.get("role") == "search"
    fields = [field for field in search["inputs"] if field.get("name") == "q"]
    assert len(fields) == 1
    field = fields[0]
    assert field["type"] == "search" and page.labels.get(field["id"], "").strip()   # labelled
    hint_id = field["aria-describedby"]
    assert re.search(rf'id="{hint_id}"[^>]*>[^<]*dang ky khai sinh', home(client, language))  # diacritics optional


def test_the_search_form_leads_to_results(client):
    from egov.procedures.models import Procedure

    Procedure.objects.create(code="1.001193", name="Đăng ký khai sinh", sector="Hộ tịch")
    response = client.get(reverse("portal:procedure_search"), {"q": "khai sinh"})
    assert response.status_code == 200
    assert "Đăng ký khai sinh" in response.content.decode()


# --- Life events -----------------------------------------------------------------------------------------------------

def test_every_life_event_links_to_the_catalogue_filtered_by_it(client):
    links = Page(home(client)).links
    search = reverse("portal:procedure_search")
    assert [link for link in links if "life_event=" in link] == [f"{search}?life_event={event}"
                                                                  for event in LifeEvent.values]
    response = client.get(f"{search}?life_event={LifeEvent.BIRTH}")
    assert response.status_code == 200   # a value the search page accepts


# --- Tracking, own dossiers, feedback --------------------------------------------------------------------------------

def test_anyone_can_track_a_dossier_and_give_feedback(client):
    links = Page(home(client)).links
    for name in ("portal:lookup", "portal:feedback", "portal:feedback_answers"):
        assert reverse(name) in links, name


def test_an_anonymous_visitor_is_offered_sign_in_and_registration(client):
    links = Page(home(client)).links
    assert reverse("accounts:login") in links and reverse("accounts:register") in links
    for name in ("dossiers:mine", "portal:apply:drafts", "portal:my_notifications"):
        assert reverse(name) not in links, name


def test_a_signed_in_citizen_finds_their_dossiers_drafts_and_notifications(client, citizen):
    signed_in(client, citizen)
    links = Page(home(client, "en")).links
    for name in ("dossiers:mine", "portal:apply:drafts", "portal:my_notifications", "portal:lookup"):
        assert reverse(name) in links, name
    assert reverse("accounts:login") not in links and reverse("accounts:register") not in links


def test_signed_in_and_anonymous_visitors_do_not_share_the_cached_page(client, citizen):
    assert reverse("accounts:login") in Page(home(client)).links    # cached for anonymous visitors first
    signed_in(client, citizen)
    assert reverse("dossiers:mine") in Page(home(client)).links
    client.logout()
    assert reverse("dossiers:mine") not in Page(home(client)).links


def test_an_officer_gets_their_work_not_a_citizen_s_links(client, officers):
    signed_in(client, officers["desk"])
    links = Page(home(client, "en")).links
    assert reverse("backoffice:inbox") in links
    assert reverse("portal:apply:drafts") not in links


# --- Figures ---------------------------------------------------------------------------------------------------------

def test_figures_are_written_with_vietnamese_thousands_separators(client, figures):
    html = main_of(home(client, "vi"))
    assert "<dd>3.321</dd>" in html and "<dd>1.250</dd>" in html and "<dd>34</dd>" in html
    assert "3321" not in html


def test_figures_are_written_with_english_thousands_separators(client, figures):
    html = main_of(home(client, "en"))
    assert "<dd>3,321</dd>" in html and "<dd>1,250</dd>" in html


def test_figures_come_after_the_citizen_s_tasks(client, figures):
    html = main_of(home(client))
    assert html.index(reverse("portal:lookup")) < html.index('id="figures-title"')
    assert html.index('action="' + reverse("portal:procedure_search")) < html.index('id="figures-title"')


# --- Out of the citizen's way, and accessible ------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["vi", "en"])
def test_no_administration_link_and_no_api_in_the_main_content(client, language):
    html = home(client, language)
    assert reverse("admin:index") not in html
    main = main_of(html)
    assert not re.search(r"\bAPI\b", re.sub(r"<[^>]+>", " ", main))
    assert reverse("api:openapi-view") not in main


@pytest.mark.parametrize("language", ["vi", "en"])
def test_one_h1_and_headings_in_order(client, citizen, language):
    for signed in (False, True):
        if signed:
            signed_in(client, citizen)
        headings = Page(home(client, language)).headings
        assert headings[0] == "h1" and headings.count("h1") == 1
        levels = [int(h[1]) for h in headings]
        assert all(after - before <= 1 for before, after in zip(levels, levels[1:], strict=False))
