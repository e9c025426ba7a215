"""The whole site crawled as each kind of user: no page they can reach is broken.

The demo data is loaded as ``egov seed --demo`` loads it (once for the module, in a transaction rolled back at its
end), with what the demo citizen has after using the portal a while: dossiers in several states (one to pay, one
whose signed result was delivered), feedback the agency asked more about, in-app notifications; and a business
account (her father's company). Each role (anonymous, citizen, business, the four one-stop roles, agency and platform
administrators; the monitoring pages are public, /statistics/) starts from the home page and its landing pages and
follows every same-site link (``<a href>``, and ``<form method="get">`` sent with its default values) breadth-first,
GET only, in Vietnamese (the default) and in English (the language switch's cookie).

Every page must answer without a server error; a link on our own page must not lead to a page that does not exist
(404), refuse the method (405), or refuse the role it was shown to (403, or the sign-in page for someone signed in
already; an anonymous visitor is sent to sign in and back). A GET form sent with its defaults may answer 400 with its
validation message. Every HTML page has a ``<title>``, exactly one ``<h1>`` and ``lang`` on ``<html>``; no template
leftovers ("TODO", ``{{``, ``{%``, and on Vietnamese pages "None") in its text. All failures of a role are reported
at once: URL, the page that showed the link, status, what is wrong.

Bounded, to stay fast: at most ``MAX_PAGES`` pages per role; ``PER_ROUTE`` different addresses per route (every demo
procedure, every dossier), fewer in English and for downloads, one per admin route (Django's admin: one change form per
model shows that our admin classes work); ``PER_PATH`` query-string variants per address.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import Resolver404, resolve

MAX_PAGES = 400
PER_ROUTE = 12      # the demo's twelve procedures, its dossiers in every status
PER_PATH = 3
PER_DOWNLOAD = 2    # a route whose address ends in a file name (.pdf, .csv...): the same code makes every one
ENGLISH_PER_ROUTE = 3  # the English crawl checks the same pages' other language: a few of each route
DOWNLOAD = re.compile(r"\.[a-z]{2,4}$")
BUSINESS_USERNAME = "crawl.business"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Never followed: they change state, or are not pages of this site (static files are checked by collectstatic).
SKIPPED_PREFIXES = ("/accounts/logout/", "/o/logout/", "/i18n/", "/static/", "/media/", "/admin/logout/")
LEFTOVERS = re.compile(r"\bTODO\b|\{\{|\{%|%\}")
# Python's None printed where a value belongs. Looked for on Vietnamese pages only, where it is never a word (on
# English pages "None." and "None yet." are sentences); the values are the same in both languages.
NONE = re.compile(r"\bNone\b")


# --- The demo, as `egov seed --demo` loads it, and a citizen who has used it ------------------------------------------

def _citizen_history():
    """What the demo citizen has after using the portal: three dossiers at the demo officers' agency (one just
    submitted, one waiting for its fees, one whose signed result was delivered), a feedback the agency asked her more
    about, and the in-app notices of all that. And a business account for her father's company."""
    from egov.accounts import business_services
    from egov.accounts.demo import demo_agency
    from egov.accounts.models import AssuranceLevel, Role, User
    from egov.dossiers import demo as dossier_demo, services
    from egov.notifications import services as notifications
    from egov.portal import feedback_services
    from egov.portal.feedback_models import FeedbackTopic
    from egov.procedures.queries import versions_in_force
    from egov.registries import demo_enterprises
    from egov.kernel import crypto
    from egov.registries.models import PIN_FIELD, Person
    from django.utils import timezone

    agency = demo_agency()
    citizen = User.objects.get(username="demo.citizen")
    officers = {role: User.objects.get(username=f"demo.{role}") for role in ("desk", "specialist", "head", "leader")}
    version = next(v for v in versions_in_force(timezone.localdate(), agency=agency) if v.procedure.code == "2.000488")
    answers = dossier_demo._sample_answers(version.form_schema)
    now = timezone.now()

    def submit(days_ago: int, *, with_file: bool = False):
        files = [("UQ", SimpleUploadedFile("uy-quyen.pdf", PDF, content_type="application/pdf"))] if with_file else []
        return services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                      form_data=answers, files=files, at=now - dt.timedelta(days=days_ago))

    submit(1, with_file=True)
    to_pay = submit(3)
    services.receive(to_pay.pk, officer=officers["desk"], at=now - dt.timedelta(days=3, hours=-1))
    services.transfer(to_pay.pk, officer=officers["desk"], at=now - dt.timedelta(days=3, hours=-2))
    services.request_fees(to_pay.pk, officer=officers["specialist"], at=now - dt.timedelta(days=3, hours=-3))
    done = submit(6)
    services.receive(done.pk, officer=officers["desk"], at=now - dt.timedelta(days=6, hours=-1))
    services.transfer(done.pk, officer=officers["desk"], at=now - dt.timedelta(days=6, hours=-2))
    if dossier_demo._draft_approve_and_sign(done, officers, now - dt.timedelta(days=5)):
        services.deliver(done.pk, officer=officers["desk"], method="online", at=now - dt.timedelta(days=4))

    feedback = feedback_services.submit(user=citizen, topic=FeedbackTopic.DOSSIER, dossier_code=done.code,
                                        text="Kết quả có sai sót ở phần địa chỉ.", at=now - dt.timedelta(days=2))
    feedback_services.ask_more(feedback.pk, officer=officers["specialist"], question="Sai ở dòng nào?",
                               at=now - dt.timedelta(days=1))
    feedback_services.submit(user=citizen, topic=FeedbackTopic.REGULATION, agency=agency, subject="Giờ làm việc",
                             text="Xin mở cửa thêm sáng thứ Bảy.", at=now - dt.timedelta(hours=5))

    business = User(username=BUSINESS_USERNAME, role=Role.BUSINESS_REPRESENTATIVE, first_name="Hùng",
                    last_name="Đỗ Văn", email="crawl.business@demo.egov.localhost",
                    person=Person.objects.get(pin_index__in=crypto.blind_indexes(PIN_FIELD, demo_enterprises.HUNG)),
                    assurance_level=AssuranceLevel.VERIFIED, assurance_method="desk")
    business.set_unusable_password()
    business.save()
    business_services.open_business_account(business, "0399000455")

    notifications.consume_events()


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker):
    """The demo for the whole module, in a transaction rolled back at its end: the other test modules that this
    worker runs next find the database as they expect it, empty."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("egov_seed", demo=True, stdout=io.StringIO())
        _citizen_history()
        yield
        transaction.set_rollback(True)
    _forget_what_processes_keep()


def _forget_what_processes_keep() -> None:
    """What this process keeps of the catalogue and the figures outside the database, gone with the rollback."""
    from django.core.cache import cache

    from egov.portal import queries as portal_queries
    from egov.procedures.queries import forget_search_choices

    forget_search_choices()
    portal_queries._figures = None
    cache.clear()


# --- Signing in --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Role:
    username: str | None
    landing: tuple[str, ...]


OFFICER_LANDING = ("/backoffice/", "/backoffice/feedback/", "/accounts/me/")
ROLES = {
    "anonymous": Role(None, ("/procedures/", "/lookup/", "/feedback/", "/statistics/", "/verify/", "/accounts/login/")),
    "citizen": Role("demo.citizen", ("/dossiers/", "/my/notifications/", "/feedback/mine/", "/apply/drafts/",
                                     "/my/documents/", "/my/data-access/", "/accounts/me/")),
    "business": Role(BUSINESS_USERNAME, ("/business/", "/dossiers/", "/accounts/me/")),
    "desk": Role("demo.desk", (*OFFICER_LANDING, "/backoffice/intake/")),
    "specialist": Role("demo.specialist", OFFICER_LANDING),
    "head": Role("demo.head", OFFICER_LANDING),
    "leader": Role("demo.leader", OFFICER_LANDING),
    "agencyadmin": Role("demo.agencyadmin", ("/accounts/me/", "/accounts/agency/000.00.12.H29/officers/",
                                             "/registries/")),
    "platformadmin": Role("demo.platformadmin", ("/accounts/me/", "/admin/", "/registries/", "/statistics/",
                                                 "/payments/reconciliation/")),
}


def signed_in_client(username: str | None, language: str) -> Client:
    """A browser with the language chosen on the switch; signed in as ``username``, an officer past the TOTP step
    with the demo authenticator (what django_otp.login() stores)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from egov.accounts.models import User

    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if username is None:
        return client
    user = User.objects.get(username=username)
    client.force_login(user)
    if user.needs_second_factor:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, name="demo").persistent_id
        session.save()
    return client


# --- Reading pages -----------------------------------------------------------------------------------------------------

class Page(HTMLParser):
    """What the crawl checks on a page: its links, its GET forms (with their default values), title, h1s, lang and
    the visible text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, bool]] = []  # (href, sent by a GET form)
        self.lang = None
        self.title = ""
        self.h1 = 0
        self.text: list[str] = []
        self._in_title = False
        self._hidden = 0  # inside <script>, <style> or <template>
        self._form: tuple[str, list] | None = None
        self._select: tuple[str, list] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "title":
            self._in_title = True
        elif tag == "h1":
            self.h1 += 1
        elif tag in ("script", "style", "template"):
            self._hidden += 1
        elif tag == "a" and a.get("href") is not None:
            self.links.append((a["href"], False))
        elif tag == "form" and (a.get("method") or "get").lower() == "get":
            self._form = (a.get("action") or "", [])
        elif tag == "form":
            self._form = None
        elif self._form is not None and tag in ("input", "button") and a.get("name"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "image", "reset", "file"):
                return
            self._form[1].append((a["name"], a.get("value") or ""))
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = (a["name"], [])
        elif self._select is not None and tag == "option":
            self._select[1].append((a.get("value") or "", "selected" in a))
        for name in ("title", "alt", "placeholder", "aria-label"):
            if a.get(name):
                self.text.append(a[name])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag in ("script", "style", "template"):
            self._hidden = max(0, self._hidden - 1)
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = next((value for value, selected in options if selected), options[0][0] if options else "")
            self._form[1].append((name, chosen))
            self._select = None
        elif tag == "form" and self._form is not None:
            action, fields = self._form
            self.links.append((("?" + urlencode(fields)) if not action else
                               action + ("&" if "?" in action else "?") + urlencode(fields), True))
            self._form = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if not self._hidden:
            self.text.append(data)


# --- The crawl ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    url: str        # path and sorted query string
    referrer: str   # the page that showed it; "" for a starting page
    form: bool = False  # a GET form sent with its default values: a 400 answering it is a validation message


@dataclass
class Crawl:
    client: Client
    role: str
    per_route_limit: int = PER_ROUTE
    problems: dict[tuple, str] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    per_route: Counter = field(default_factory=Counter)
    per_path: Counter = field(default_factory=Counter)
    fetched: int = 0

    def fail(self, link: Link, status: int | str, why: str) -> None:
        """One line per address and problem (the query-string variants of an address count once)."""
        key = (urlsplit(link.url).path, status, why)
        if key not in self.problems:
            self.problems[key] = f"{link.url} (from {link.referrer or 'the start'}): {status} {why}"

    @property
    def failures(self) -> list[str]:
        return list(self.problems.values())

    def admit(self, url: str) -> bool:
        """A new address to fetch, within the bounds. The admin site is Django's: one page of each of its routes
        (one change form per model, no sorting or filtering variants) shows that our models and admin classes work.
        Downloads are costly (a PDF is drawn for each) and made by one view per route: two of each."""
        if url in self.seen:
            return False
        path = urlsplit(url).path
        try:
            match = resolve(path)
            route = f"{match.namespace}:{match.url_name}:{match.route}"
        except Resolver404:
            route = path  # a 404: fetched once, reported
        if path.startswith("/admin/"):
            per_route, per_path = 1, 1
        else:
            per_route = min(self.per_route_limit, PER_DOWNLOAD if DOWNLOAD.search(path) else PER_ROUTE)
            per_path = PER_PATH
        if self.per_path[path] >= per_path or (self.per_route[route] >= per_route and self.per_path[path] == 0):
            return False
        self.seen.add(url)
        self.per_path[path] += 1
        if self.per_path[path] == 1:
            self.per_route[route] += 1
        return True

    def run(self, start: list[str]) -> None:
        queue = deque(Link(url, "") for url in start if self.admit(url))
        while queue and self.fetched < MAX_PAGES:
            for link in self.visit(queue.popleft()):
                if self.admit(link.url):
                    queue.append(link)

    def visit(self, link: Link) -> list[Link]:
        self.fetched += 1
        try:
            response = self.client.get(link.url)
        except Exception as exc:  # noqa: BLE001  (the test client raises what a server would answer with a 500)
            self.fail(link, 500, f"{type(exc).__name__}: {exc}")
            return []
        status = response.status_code
        if status >= 500:
            self.fail(link, status, "server error")
        elif status == 403:
            self.fail(link, status, "refuses the role it was shown to" if link.referrer
                      else f"a landing page of {self.role} refuses them")
        elif status >= 400 and not (status == 400 and link.form):
            self.fail(link, status, "broken link" if link.referrer else "broken landing page")
        if status in (301, 302, 303, 307, 308):
            target = response["Location"]
            if urlsplit(target).path == resolve_url(settings.LOGIN_URL):
                if self.role != "anonymous":
                    self.fail(link, status, f"sends a signed-in {self.role} to sign in ({target})")
                elif "next=" not in target:
                    self.fail(link, status, f"sends to sign in without coming back ({target})")
            return self.internal([(target, False)], link.url)
        if getattr(response, "streaming", False):
            # Read through the test client's wrapper, which closes the response without closing the database
            # connection (as response.close() alone would). The demo's downloads are small.
            b"".join(response.streaming_content)
            return []
        if "text/html" not in response.get("Content-Type", ""):
            return []
        page = Page()
        page.feed(response.content.decode())
        self.check(link, status, page)
        return self.internal(page.links, link.url)

    def check(self, link: Link, status: int, page: Page) -> None:
        if not page.lang:
            self.fail(link, status, "no lang on <html>")
        if not page.title.strip():
            self.fail(link, status, "no <title>")
        if page.h1 != 1:
            self.fail(link, status, f"{page.h1} <h1> instead of one")
        text = " ".join(" ".join(page.text).split())
        found_all = [*LEFTOVERS.finditer(text), *(NONE.finditer(text) if page.lang == "vi" else ())]
        for found in found_all:
            context = text[max(0, found.start() - 60):found.end() + 60]
            self.fail(link, status, f"template leftover {found.group()!r} in “…{context}…”")

    def internal(self, links: list[tuple[str, bool]], base: str) -> list[Link]:
        """Same-site links of a page, as absolute paths with a sorted query, without fragments."""
        found = []
        for href, form in links:
            href = href.strip()
            if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
                continue
            parts = urlsplit(urljoin("http://testserver" + base, href))
            if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
                continue
            if parts.path.startswith(SKIPPED_PREFIXES):
                continue
            query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
            found.append(Link(urlunsplit(("", "", parts.path, query, "")), base, form))
        return found


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_a_role_can_reach_is_broken(demo_site, db, role, language):
    started = time.perf_counter()
    crawl = Crawl(signed_in_client(ROLES[role].username, language), role,
                  per_route_limit=PER_ROUTE if language == "vi" else ENGLISH_PER_ROUTE)
    crawl.run(["/", *ROLES[role].landing])
    elapsed = time.perf_counter() - started
    assert crawl.fetched > 20, f"{role} reached {crawl.fetched} pages only: {sorted(crawl.seen)}"
    assert not crawl.failures, (f"{len(crawl.failures)} failures crawling as {role} in {language} "
                                f"({crawl.fetched} pages, {elapsed:.1f} s):\n" + "\n".join(crawl.failures))


# --- What the crawl found, as rules ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "level", "shown"), [
    (None, None, "apply"),                # anonymous: "Apply online" leads to the sign-in, then back
    ("demo.citizen", None, "apply"),      # level 2, as the procedure asks
    ("crawl.level1", 1, "verify"),        # signed in below the level: the apply flow would refuse them (403)
    ("demo.desk", None, "verify"),        # an officer's account is at level 1 too
])
def test_the_procedure_page_offers_to_apply_only_to_whom_the_apply_flow_accepts(demo_site, db, username, level,
                                                                                 shown):
    from egov.accounts.models import User

    if level is not None:
        User.objects.create(username=username, assurance_level=level)
    client = signed_in_client(username, "en")
    page = client.get("/procedures/2.000488/").content.decode()
    apply, verify = 'href="/apply/2.000488/"' in page, 'href="/accounts/verify/"' in page
    assert (apply, verify) == ((True, False) if shown == "apply" else (False, True))
    if shown == "verify":
        assert "verify it first, then apply online" in page
    status = client.get("/apply/2.000488/").status_code
    assert status == (403 if shown == "verify" else 302 if username is None else 200)


def test_the_admin_shows_no_link_that_fails_and_no_authenticator_secret(demo_site, db):
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from oauth2_provider.models import get_application_model

    admin = signed_in_client("demo.platformadmin", "en")
    application = get_application_model().objects.order_by("pk").first()
    page = admin.get(f"/admin/oauth2_provider/application/{application.pk}/change/")
    assert page.status_code == 200 and "/admin/r/" not in page.content.decode()  # "View on site": no such page

    device = TOTPDevice.objects.get(user__username="demo.desk")
    page = admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page and f"/totpdevice/{device.pk}/config/" not in page
    assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
