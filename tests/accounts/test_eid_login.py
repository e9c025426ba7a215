"""Sign-in with the national eID: the real authorization code flow over HTTP, between egov (pytest-django's live
server, on the test database) and the fake identity provider (egov.accounts.fake_eid) on another loopback port."""
import base64
import hashlib
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

from egov.accounts.fake_eid import Identity, start_in_thread
from egov.accounts.models import AssuranceLevel, AssuranceMethod, Role, User
from egov.config import DEMO_EID_CLIENT_SECRET, eid_problems
from egov.kernel.access import SYSTEM
from egov.kernel.ledger_models import Event
from egov.registries import services as registry
from egov.registries.models import PersonalData

CLIENT_ID, CLIENT_SECRET = "egov-test", "test-secret-of-the-relying-party"

HA = Identity("079303001234", "Đỗ Thị Hà", "2003-03-15")
HUNG = Identity("036072004321", "Đỗ Văn Hùng", "1972-08-20")
HUNG_MISSPELT = Identity("036072004321", "Đỗ Văn Hưng", "1972-08-20")
HUNG_WRONG_BIRTHDAY = Identity("036072004321", "Đỗ Văn Hùng", "1972-08-21")
LAN_DECEASED = Identity("079176005678", "Nguyễn Thị Lan", "1976-11-02")
UNKNOWN = Identity("001099000001", "Trần Văn Không", "1999-01-01")
IDENTITIES = [HA, HUNG, HUNG_MISSPELT, HUNG_WRONG_BIRTHDAY, LAN_DECEASED, UNKNOWN]


@pytest.fixture
def idp():
    provider, server = start_in_thread(IDENTITIES, clients={CLIENT_ID: CLIENT_SECRET})
    yield provider
    server.shutdown()
    server.server_close()


@pytest.fixture
def egov(live_server, settings, idp, transactional_db):
    settings.EID_ISSUER = idp.issuer
    settings.EID_CLIENT_ID = CLIENT_ID
    settings.EID_CLIENT_SECRET = CLIENT_SECRET
    return live_server.url


@pytest.fixture
def population(transactional_db):
    def register(identity: Identity, sex: str):
        data = PersonalData(personal_id_number=identity.personal_id_number, full_name=identity.full_name,
                            date_of_birth=date.fromisoformat(identity.birthdate), sex=sex)
        return registry.register_person(data, caller=SYSTEM)

    persons = {"ha": register(HA, "female"), "hung": register(HUNG, "male"), "lan": register(LAN_DECEASED, "female")}
    registry.register_death(persons["lan"].uid, caller=SYSTEM, date_of_death=date(2025, 12, 1))
    return persons


@pytest.fixture
def browser():
    with requests.Session() as session:
        session.cookies.set("django_language", "en")  # the visitor's chosen language: assertions read English
        yield session


def index_of(identity: Identity) -> int:
    return IDENTITIES.index(identity)


def authorize(browser, egov, **idp_choice) -> str:
    """Start at egov, pass the provider's authorize step; returns the callback URL the provider sends back."""
    started = browser.get(f"{egov}/accounts/eid/start/", allow_redirects=False)
    assert started.status_code == 302, started.text[:500]
    location = started.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert "code_verifier" not in query
    answered = browser.get(f"{location}&{urlencode(idp_choice)}", allow_redirects=False)
    assert answered.status_code == 302, answered.text[:500]
    return answered.headers["Location"]


def sign_in(browser, egov, identity: Identity | None = None, **idp_choice) -> requests.Response:
    if identity is not None:
        idp_choice["choose"] = index_of(identity)
    callback = authorize(browser, egov, **idp_choice)
    assert callback.startswith(f"{egov}/accounts/eid/callback/")
    return browser.get(callback, allow_redirects=False)


def refused_with(browser, egov, response: requests.Response) -> str:
    """The message on the sign-in page after a refused eID sign-in."""
    assert response.status_code == 302 and response.headers["Location"].endswith("/accounts/login/")
    page = browser.get(f"{egov}/accounts/login/")
    assert page.status_code == 200
    return page.text


def signed_in_as(browser, egov) -> User | None:
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    key = browser.cookies.get("sessionid")
    if not key:
        return None
    user_id = SessionStore(session_key=key).load().get(SESSION_KEY)
    return User.objects.filter(pk=user_id).first() if user_id else None


def refusals() -> list[str]:
    return [event.payload["rule"] for event in Event.objects.filter(event_type="account.eid_refused").order_by("id")]


# --- Success ------------------------------------------------------------------------------------------------------

def test_first_eid_sign_in_opens_a_verified_account_linked_to_the_person(browser, egov, population):
    response = sign_in(browser, egov, HUNG)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = User.objects.get(person=population["hung"])
    assert signed_in_as(browser, egov) == user
    assert user.role == Role.CITIZEN and not user.has_usable_password()
    assert user.assurance_level == AssuranceLevel.VERIFIED and user.assurance_method == AssuranceMethod.EID
    assert HUNG.personal_id_number not in user.username and "hung" not in user.username.lower()
    read = Event.objects.get(event_type="person.verified", subject_id=str(population["hung"].pk))
    assert read.payload["via"] == "eid" and read.payload["match"] is True and read.payload["purpose"]
    assert Event.objects.filter(event_type="account.assurance_raised", payload__method="eid").count() == 1


def test_second_eid_sign_in_reuses_the_account(browser, egov, population):
    sign_in(browser, egov, HUNG)
    first = User.objects.get(person=population["hung"])
    with requests.Session() as other_browser:
        response = sign_in(other_browser, egov, login_hint=HUNG.personal_id_number)
        assert response.status_code == 302 and response.headers["Location"] == "/"
        assert signed_in_as(other_browser, egov) == first
    assert User.objects.filter(person=population["hung"]).count() == 1
    assert User.objects.count() == 1


def test_next_is_followed_only_within_the_site(browser, egov, population):
    started = browser.get(f"{egov}/accounts/eid/start/?next=https://evil.example/", allow_redirects=False)
    callback = browser.get(f"{started.headers['Location']}&choose={index_of(HUNG)}", allow_redirects=False)
    assert browser.get(callback.headers["Location"], allow_redirects=False).headers["Location"] == "/"
    started = browser.get(f"{egov}/accounts/eid/start/?next=/registries/", allow_redirects=False)
    callback = browser.get(f"{started.headers['Location']}&choose={index_of(HUNG)}", allow_redirects=False)
    assert browser.get(callback.headers["Location"], allow_redirects=False).headers["Location"] == "/registries/"


def test_a_signed_in_level_1_citizen_links_the_eid_and_reaches_level_2(browser, egov, population):
    from django.test import Client

    citizen = User.objects.create_user("ha.citizen", password=None, role=Role.CITIZEN)
    client = Client()
    client.force_login(citizen)
    browser.cookies.set("sessionid", client.cookies["sessionid"].value)
    response = sign_in(browser, egov, HA)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    citizen.refresh_from_db()
    assert citizen.person == population["ha"] and citizen.assurance_level == AssuranceLevel.VERIFIED
    assert citizen.assurance_method == AssuranceMethod.EID
    assert User.objects.count() == 1
    assert "now at level 2" in browser.get(f"{egov}/accounts/login/").text


def test_an_officer_account_linked_to_the_person_is_not_signed_in_by_eid(browser, egov, population):
    User.objects.create_user("officer", password=None, role=Role.DESK_OFFICER, person=population["hung"])
    page = refused_with(browser, egov, sign_in(browser, egov, HUNG))
    assert "officer account" in page
    assert signed_in_as(browser, egov) is None
    assert refusals() == ["officer"]


# --- Refusals: no account, a specific message, a ledger event -------------------------------------------------------

@pytest.mark.parametrize("identity", [HUNG_MISSPELT, HUNG_WRONG_BIRTHDAY], ids=["name", "birthday"])
def test_a_mismatched_identity_gets_a_specific_message_and_no_account(browser, egov, population, identity):
    page = refused_with(browser, egov, sign_in(browser, egov, identity))
    assert "does not match the population registry" in page
    assert User.objects.count() == 0 and signed_in_as(browser, egov) is None
    assert refusals() == ["mismatch"]
    read = Event.objects.get(event_type="person.verified")
    assert read.payload["match"] is False  # the failed read is in the person's access log too
    for event in Event.objects.all():
        assert identity.full_name not in str(event.payload) and identity.personal_id_number not in str(event.payload)


def test_an_unknown_identification_number_is_refused(browser, egov, population):
    page = refused_with(browser, egov, sign_in(browser, egov, UNKNOWN))
    assert "not in the population registry" in page
    assert User.objects.count() == 0 and refusals() == ["unknown_number"]


def test_a_deceased_person_is_refused(browser, egov, population):
    page = refused_with(browser, egov, sign_in(browser, egov, LAN_DECEASED))
    assert "recorded as deceased" in page
    assert User.objects.count() == 0 and refusals() == ["deceased"]


def test_cancelling_at_the_provider_says_so(browser, egov, population, idp):
    page = refused_with(browser, egov, sign_in(browser, egov, login_hint="deny"))
    assert "You cancelled the sign-in at the national eID" in page
    assert User.objects.count() == 0 and refusals() == ["access_denied"] and idp.token_requests == 0


def test_a_tampered_state_is_refused_before_the_code_is_used(browser, egov, population, idp):
    callback = authorize(browser, egov, choose=index_of(HUNG))
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")
    response = browser.get(urlunsplit(parts._replace(query=urlencode(query))), allow_redirects=False)
    assert "could not be matched to your browser session" in refused_with(browser, egov, response)
    assert idp.token_requests == 0 and User.objects.count() == 0 and refusals() == ["state"]


def test_a_callback_without_a_started_sign_in_is_refused(browser, egov, population):
    response = browser.get(f"{egov}/accounts/eid/callback/?code=abc&state=xyz", allow_redirects=False)
    assert "could not be matched to your browser session" in refused_with(browser, egov, response)


def test_a_replayed_code_is_refused_by_the_provider(browser, egov, population, idp):
    callback = authorize(browser, egov, choose=index_of(HUNG))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert browser.get(callback, allow_redirects=False).headers["Location"] == "/"
    # The same code again, in a fresh sign-in of another browser (so the state is valid): the provider refuses it.
    with requests.Session() as attacker:
        attacker.cookies.set("django_language", "en")
        started = attacker.get(f"{egov}/accounts/eid/start/", allow_redirects=False)
        state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
        response = attacker.get(f"{egov}/accounts/eid/callback/?{urlencode({'code': code, 'state': state})}",
                                allow_redirects=False)
        assert "did not confirm this sign-in" in refused_with(attacker, egov, response)
        assert signed_in_as(attacker, egov) is None
    assert refusals() == ["token"]


@pytest.mark.parametrize("misbehaviour", ["wrong_signature", "wrong_audience", "wrong_nonce", "wrong_issuer",
                                          "expired"])
def test_an_id_token_that_does_not_verify_is_refused(browser, egov, population, idp, misbehaviour):
    idp.misbehave = {misbehaviour}
    page = refused_with(browser, egov, sign_in(browser, egov, HUNG))
    assert "could not be verified" in page
    assert User.objects.count() == 0 and refusals() == ["id_token"]


def test_an_unreachable_provider_is_said_so(browser, egov, settings, population):
    from tests.http_client import free_port

    settings.EID_ISSUER = f"http://127.0.0.1:{free_port()}"
    response = browser.get(f"{egov}/accounts/eid/start/", allow_redirects=False)
    assert "could not be reached" in refused_with(browser, egov, response)
    assert refusals() == ["unreachable"]


# --- The fake provider is strict too (PKCE, client secret) -----------------------------------------------------------

def _code_for(idp, verifier: str, redirect_uri: str = "http://127.0.0.1/cb") -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    answer = requests.get(f"{idp.issuer}/authorize", params={
        "client_id": CLIENT_ID, "redirect_uri": redirect_uri, "response_type": "code", "scope": "openid",
        "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256",
        "login_hint": HUNG.personal_id_number}, allow_redirects=False, timeout=10)
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def test_the_fake_provider_checks_pkce_secret_and_single_use(idp):
    verifier = "v" * 64
    token_url, redirect_uri = f"{idp.issuer}/token", "http://127.0.0.1/cb"
    form = {"grant_type": "authorization_code", "redirect_uri": redirect_uri, "code_verifier": verifier}
    wrong_verifier = requests.post(token_url, data={**form, "code": _code_for(idp, verifier), "code_verifier": "w" * 64},
                                   auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"
    wrong_secret = requests.post(token_url, data={**form, "code": _code_for(idp, verifier)}, auth=(CLIENT_ID, "x"),
                                 timeout=10)
    assert wrong_secret.status_code == 401
    code = _code_for(idp, verifier)
    assert requests.post(token_url, data={**form, "code": code}, auth=(CLIENT_ID, CLIENT_SECRET),
                         timeout=10).status_code == 200
    again = requests.post(token_url, data={**form, "code": code}, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


# --- Configuration ---------------------------------------------------------------------------------------------------

def test_without_an_issuer_there_is_no_button_and_no_flow(client, settings, db):
    settings.EID_ISSUER = ""
    assert "national eID" not in client.get("/accounts/login/").content.decode()
    assert client.get("/accounts/eid/start/").status_code == 404
    assert client.get("/accounts/eid/callback/?code=x&state=y").status_code == 404


def test_with_an_issuer_the_sign_in_page_offers_the_eid(client, settings, db):
    settings.EID_ISSUER = "http://127.0.0.1:9"
    assert "Sign in with national eID (VNeID)" in client.get("/accounts/login/").content.decode()


def test_production_refuses_the_demo_secret_and_plain_http():
    assert eid_problems("", "", "") == []
    assert eid_problems("https://eid.example.gov.vn", "egov", "a-real-secret-from-the-provider") == []
    problems = " ".join(eid_problems("http://eid.example.gov.vn", "egov", DEMO_EID_CLIENT_SECRET))
    assert "EGOV_EID_CLIENT_SECRET" in problems and "EGOV_EID_ISSUER" in problems


def test_the_fake_provider_is_refused_in_production(monkeypatch, capsys):
    from egov.cli import main

    monkeypatch.setenv("EGOV_ENV", "production")
    with pytest.raises(SystemExit) as stopped:
        main(["fake-eid", "--bind", "127.0.0.1:0"])
    assert stopped.value.code == 2 and "refused" in capsys.readouterr().err


def test_a_citizen_cannot_link_an_identity_that_another_account_holds(browser, egov, population):
    from django.test import Client

    holder = User.objects.create_user("holder", password=None, role=Role.CITIZEN, person=population["ha"],
                                      assurance_level=AssuranceLevel.VERIFIED)
    other = User.objects.create_user("other", password=None, role=Role.CITIZEN)
    client = Client()
    client.force_login(other)
    browser.cookies.set("sessionid", client.cookies["sessionid"].value)
    page = refused_with(browser, egov, sign_in(browser, egov, HA))
    assert "already linked to another account" in page
    other.refresh_from_db()
    assert other.person is None and other.assurance_level == AssuranceLevel.BASIC
    assert User.objects.get(person=population["ha"]) == holder and refusals() == ["linked"]


def test_two_first_sign_ins_at_once_end_in_one_account(population, monkeypatch):
    """The loser of the race hits the one-account-per-person constraint; it retries and signs in to the winner's."""
    from django.db import IntegrityError

    from egov.accounts import eid_services
    from egov.accounts.eid import Assertion

    real, calls = eid_services._account_for, []

    def racing(person, current_user):
        calls.append(person)
        if len(calls) == 1:
            raise IntegrityError("UNIQUE constraint failed: accounts_user.person_id")
        return real(person, current_user)

    monkeypatch.setattr(eid_services, "_account_for", racing)
    assertion = Assertion(subject="s", personal_id_number=HUNG.personal_id_number, full_name=HUNG.full_name,
                          date_of_birth=date.fromisoformat(HUNG.birthdate))
    user = eid_services.sign_in_with_eid(assertion)
    assert len(calls) == 2 and user.person == population["hung"] and User.objects.count() == 1
