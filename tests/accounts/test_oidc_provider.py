"""egov as OpenID Connect provider, tested end to end: a real server process on loopback, Authlib as the agency
system, requests as the person's browser. Discovery, authorization code with PKCE, consent, ID token checked
against the JWKS, userinfo, claims by scope, replayed codes, denials and logout."""
import re
from datetime import date

import pytest
import requests

from egov.accounts.models import Role
from egov.exchange.services import register_client, register_oidc_client
from egov.kernel.access import SYSTEM
from egov.kernel.models import Event
from egov.registries import services as registries
from egov.registries.models import PersonalData
from tests.accounts.conftest import PASSWORD
from tests.accounts.oidc_flow import (
    POST_LOGOUT_URI, REDIRECT_URI, Browser, Relying, csrf_of, hidden_fields, query_of, sign_in_and_consent, start,
)

PIN = "079090001234"


@pytest.fixture
def provider(server_processes, agencies, make_user):
    """One server; a citizen linked to the population registry; an agency system with a sign-in application."""
    (base,) = server_processes(1)
    person = registries.register_person(PersonalData(personal_id_number=PIN, full_name="Nguyễn Văn An",
                                                     date_of_birth=date(1990, 5, 17), sex="male"), caller=SYSTEM)
    citizen = make_user("an.nguyen", Role.CITIZEN, first_name="An", last_name="Nguyễn Văn", phone="0901234567",
                        person=person)
    system, _key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch điện tử",
                                   agency=agencies["justice"])
    application, secret = register_oidc_client(caller=SYSTEM, client=system, kind="sign-in",
                                               redirect_uris=[REDIRECT_URI], post_logout_redirect_uris=[POST_LOGOUT_URI])
    return {"base": base, "relying": Relying(base, application.client_id, secret), "citizen": citizen,
            "person": person, "system": system}


def english(session):
    session.cookies.set("django_language", "en")  # assertions read the source messages
    return session


def browser_for(provider) -> Browser:
    browser = Browser(provider["base"])
    english(browser.http)
    return browser


def test_discovery_names_the_endpoints_and_the_root_alias_matches(provider):
    base = provider["base"]
    meta = requests.get(f"{base}/o/.well-known/openid-configuration", timeout=30).json()
    assert meta == requests.get(f"{base}/.well-known/openid-configuration", timeout=30).json()
    assert meta["issuer"] == f"{base}/o"
    assert meta["authorization_endpoint"] == f"{base}/o/authorize/"
    assert meta["jwks_uri"] == f"{base}/o/.well-known/jwks.json"
    assert meta["end_session_endpoint"] == f"{base}/o/logout/"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "profile", "email", "phone", "personal_id"} <= set(meta["scopes_supported"])
    assert "personal_id_number" in meta["claims_supported"]
    assert meta["response_types_supported"] == ["code"]


def test_sign_in_with_pkce_gives_a_verified_id_token_and_userinfo_by_scope(provider):
    relying, browser = provider["relying"], browser_for(provider)
    session, answer, verifier, nonce = sign_in_and_consent(relying, browser, "openid profile email personal_id",
                                                           "an.nguyen", PASSWORD)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT_URI)
    token = session.fetch_token(relying.discovery()["token_endpoint"], authorization_response=answer.headers["Location"],
                                code_verifier=verifier)
    claims = relying.verify_id_token(token["id_token"], nonce)
    assert claims["personal_id_number"] == PIN
    assert claims["name"] == "Nguyễn Văn An"
    assert claims["email"] == "an.nguyen@example.org"
    assert claims["acr"] == "urn:egov:loa:1" and claims["assurance_level"] == 1
    # sub: a random UUID, neither the username nor the database id
    assert claims["sub"] not in {"an.nguyen", str(provider["citizen"].pk)} and len(claims["sub"]) == 36
    assert "phone_number" not in claims  # the phone scope was not asked for
    userinfo = session.get(relying.discovery()["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"] and userinfo["personal_id_number"] == PIN
    # Both releases of the number are reads of personal data by the agency system, in the person's log.
    reads = Event.objects.filter(event_type="person.read", subject_id=str(provider["person"].pk))
    assert reads.count() == 2
    assert {r.payload["reader_system"] for r in reads} == {"VN:GOV:000.00.12.H29:hotich"}
    assert all(r.payload["via"] == "oidc" and PIN not in str(r.payload) for r in reads)
    issued = Event.objects.get(event_type="oidc.token_issued")
    assert issued.payload["scopes"] == ["email", "openid", "personal_id", "profile"]
    assert issued.partition == "000.00.12.H29"


def test_without_the_personal_id_scope_the_number_is_neither_sent_nor_read(provider):
    relying, browser = provider["relying"], browser_for(provider)
    session, answer, verifier, nonce = sign_in_and_consent(relying, browser, "openid profile", "an.nguyen", PASSWORD)
    token = session.fetch_token(relying.discovery()["token_endpoint"], authorization_response=answer.headers["Location"],
                                code_verifier=verifier)
    claims = relying.verify_id_token(token["id_token"], nonce)
    userinfo = session.get(relying.discovery()["userinfo_endpoint"]).json()
    assert "personal_id_number" not in claims and "personal_id_number" not in userinfo
    assert claims["name"] == "Nguyễn Văn An" and "email" not in claims
    assert not Event.objects.filter(event_type="person.read").exists()


def test_the_consent_screen_names_the_system_its_agency_and_each_scope(provider):
    relying, browser = provider["relying"], browser_for(provider)
    _session, url, _verifier, _nonce = start(relying, browser, "openid phone personal_id")
    login = browser.get(url).headers["Location"]
    page = browser.get(browser.sign_in(login, "an.nguyen", PASSWORD)).text
    assert "Hộ tịch điện tử" in page and "Sở Tư pháp TP HCM" in page and "VN:GOV:000.00.12.H29:hotich" in page
    assert "Your phone number" in page and "Your personal identification number" in page
    assert 'name="allow"' in page and ">Deny<" in page


def test_a_replayed_authorization_code_is_refused_by_name_and_revokes_the_tokens(provider):
    relying, browser = provider["relying"], browser_for(provider)
    session, answer, verifier, _nonce = sign_in_and_consent(relying, browser, "openid", "an.nguyen", PASSWORD)
    meta = relying.discovery()
    token = session.fetch_token(meta["token_endpoint"], authorization_response=answer.headers["Location"],
                                code_verifier=verifier)
    replay = english(requests.Session()).post(meta["token_endpoint"], timeout=30, data={
        "grant_type": "authorization_code", "code": query_of(answer.headers["Location"])["code"],
        "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
    }, auth=(relying.client_id, relying.client_secret))
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert "already been used" in replay.json()["error_description"]
    # The first exchange's access token no longer works (RFC 6749 §4.1.2).
    userinfo = requests.get(meta["userinfo_endpoint"], timeout=30,
                            headers={"Authorization": f"Bearer {token['access_token']}"})
    assert userinfo.status_code in (401, 403)
    assert Event.objects.filter(event_type="oidc.code_replayed").count() == 1


def test_a_wrong_code_verifier_is_refused(provider):
    relying, browser = provider["relying"], browser_for(provider)
    _session, answer, _verifier, _nonce = sign_in_and_consent(relying, browser, "openid", "an.nguyen", PASSWORD)
    refused = requests.post(relying.discovery()["token_endpoint"], timeout=30, data={
        "grant_type": "authorization_code", "code": query_of(answer.headers["Location"])["code"],
        "redirect_uri": REDIRECT_URI, "code_verifier": "x" * 50,
    }, auth=(relying.client_id, relying.client_secret))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_an_authorization_request_without_pkce_is_refused(provider):
    relying, browser = provider["relying"], browser_for(provider)
    session = relying.session("openid")
    session.code_challenge_method = None
    url, _state = session.create_authorization_url(relying.discovery()["authorization_endpoint"], nonce="n-1")
    assert "code_challenge" not in url
    login = browser.get(url).headers["Location"]
    back = browser.sign_in(login, "an.nguyen", PASSWORD)
    answer = browser.get(back)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT_URI)
    error = query_of(answer.headers["Location"])
    assert error["error"] == "invalid_request" and "challenge" in error["error_description"].lower()


def test_deny_on_the_consent_screen_sends_access_denied_back(provider):
    relying, browser = provider["relying"], browser_for(provider)
    _session, answer, _verifier, _nonce = sign_in_and_consent(relying, browser, "openid personal_id", "an.nguyen",
                                                              PASSWORD, allow=False)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT_URI)
    assert query_of(answer.headers["Location"])["error"] == "access_denied"
    assert not Event.objects.filter(event_type__in=["person.read", "oidc.token_issued"]).exists()


def test_an_unregistered_redirect_address_is_shown_as_an_error_not_followed(provider):
    relying, browser = provider["relying"], browser_for(provider)
    session = relying.session("openid")
    session.redirect_uri = "https://evil.example/callback"
    url, _state = session.create_authorization_url(relying.discovery()["authorization_endpoint"],
                                                   code_verifier="v" * 48)
    login = browser.get(url).headers["Location"]
    page = browser.get(browser.sign_in(login, "an.nguyen", PASSWORD))
    assert page.status_code == 400 and "Sign-in cannot continue" in page.text
    assert "evil.example" not in page.headers.get("Location", "")


def test_a_disabled_client_system_cannot_sign_anyone_in(provider):
    relying, browser = provider["relying"], browser_for(provider)
    provider["system"].is_active = False
    provider["system"].save(update_fields=["is_active"])
    _session, url, _verifier, _nonce = start(relying, browser, "openid")
    login = browser.get(url).headers["Location"]
    page = browser.get(browser.sign_in(login, "an.nguyen", PASSWORD))
    assert page.status_code == 400
    assert "Sign-in cannot continue" in page.text and "Invalid client_id" in page.text


def test_logout_from_the_agency_system_ends_the_egov_session(provider):
    relying, browser = provider["relying"], browser_for(provider)
    session, answer, verifier, _nonce = sign_in_and_consent(relying, browser, "openid", "an.nguyen", PASSWORD)
    meta = relying.discovery()
    token = session.fetch_token(meta["token_endpoint"], authorization_response=answer.headers["Location"],
                                code_verifier=verifier)
    out = browser.get(f"{meta['end_session_endpoint']}?id_token_hint={token['id_token']}&client_id={relying.client_id}"
                      f"&post_logout_redirect_uri={POST_LOGOUT_URI}&state=bye")
    assert out.status_code == 302 and out.headers["Location"] == f"{POST_LOGOUT_URI}?state=bye"
    _session, url, _verifier, _nonce = start(relying, browser, "openid")
    assert "/accounts/login/" in browser.get(url).headers["Location"]  # signed out of egov too


def test_logout_without_an_id_token_asks_first(provider):
    relying, browser = provider["relying"], browser_for(provider)
    sign_in_and_consent(relying, browser, "openid", "an.nguyen", PASSWORD)
    page = browser.get("/o/logout/")
    assert page.status_code == 200 and "Sign out of egov?" in page.text
    stay = browser.http.post(f"{provider['base']}/o/logout/", allow_redirects=False, timeout=30,
                             data={"csrfmiddlewaretoken": csrf_of(page.text), **hidden_fields(page.text)},
                             headers={"Referer": f"{provider['base']}/o/logout/"})
    assert "You are still signed in" in stay.text  # "Stay signed in": nothing ended
    _session, url, _verifier, _nonce = start(relying, browser, "openid")
    assert browser.get(url).status_code == 200  # still signed in: straight to the consent screen
    page = browser.get("/o/logout/")
    out = browser.http.post(f"{provider['base']}/o/logout/", allow_redirects=False, timeout=30,
                            data={"csrfmiddlewaretoken": csrf_of(page.text), **hidden_fields(page.text), "allow": "on"},
                            headers={"Referer": f"{provider['base']}/o/logout/"})
    assert out.status_code == 302
    assert "/accounts/login/" in browser.get(url).headers["Location"]


def test_an_officer_finishes_the_second_factor_before_signing_in_elsewhere(provider, make_user, agencies):
    make_user("desk.h29", Role.DESK_OFFICER, agency=agencies["justice"])
    relying, browser = provider["relying"], browser_for(provider)
    _session, url, _verifier, _nonce = start(relying, browser, "openid")
    login = browser.get(url).headers["Location"]
    after_password = browser.sign_in(login, "desk.h29", PASSWORD)
    assert "/accounts/totp" in after_password
    # Going straight to the authorize URL does not skip the code step either.
    assert "/accounts/totp" in browser.get(url).headers["Location"]


def test_bad_requests_get_clear_errors_never_a_500(provider):
    base, relying = provider["base"], provider["relying"]
    system_app, system_secret = register_oidc_client(caller=SYSTEM, client=provider["system"], kind="system")
    system_token = requests.post(f"{base}/o/token/", data={"grant_type": "client_credentials"}, timeout=30,
                                 auth=(system_app.client_id, system_secret)).json()["access_token"]
    answers = {
        "authorize without parameters": requests.get(f"{base}/o/authorize/", timeout=30, allow_redirects=False),
        "token without anything": requests.post(f"{base}/o/token/", timeout=30),
        "token with an unknown grant": requests.post(f"{base}/o/token/", data={"grant_type": "magic"}, timeout=30,
                                                     auth=(relying.client_id, relying.client_secret)),
        "authorization code grant without a code": requests.post(
            f"{base}/o/token/", data={"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI}, timeout=30,
            auth=(relying.client_id, relying.client_secret)),
        "a sign-in application asking for client credentials": requests.post(
            f"{base}/o/token/", data={"grant_type": "client_credentials"}, timeout=30,
            auth=(relying.client_id, relying.client_secret)),
        "userinfo without a token": requests.get(f"{base}/o/userinfo/", timeout=30),
        "userinfo with garbage": requests.get(f"{base}/o/userinfo/", headers={"Authorization": "Bearer x"},
                                              timeout=30),
        "userinfo with a system token": requests.get(f"{base}/o/userinfo/", timeout=30,
                                                     headers={"Authorization": f"Bearer {system_token}"}),
        "logout with a garbage hint": requests.get(f"{base}/o/logout/?id_token_hint=abc.def.ghi", timeout=30,
                                                   allow_redirects=False),
        "logout to an unregistered address": requests.get(
            f"{base}/o/logout/?client_id={relying.client_id}&post_logout_redirect_uri=https://evil.example/",
            timeout=30, allow_redirects=False),
        "introspect without credentials": requests.post(f"{base}/o/introspect/", data={"token": "x"}, timeout=30),
        "revoke with garbage": requests.post(f"{base}/o/revoke_token/", data={"token": "x"}, timeout=30,
                                             auth=(relying.client_id, relying.client_secret)),
    }
    failures = {name: answer.status_code for name, answer in answers.items() if answer.status_code >= 500}
    assert failures == {}
    assert answers["token with an unknown grant"].json()["error"] == "unsupported_grant_type"
    assert answers["a sign-in application asking for client credentials"].json()["error"] == "unauthorized_client"
    assert answers["userinfo with a system token"].status_code in (401, 403)
    assert "evil.example" not in answers["logout to an unregistered address"].headers.get("Location", "")


def test_the_person_sees_the_agency_system_they_signed_in_to_and_signs_out_of_it(provider):
    relying, browser = provider["relying"], browser_for(provider)
    session, answer, verifier, _nonce = sign_in_and_consent(relying, browser, "openid profile", "an.nguyen", PASSWORD)
    token = session.fetch_token(relying.discovery()["token_endpoint"], authorization_response=answer.headers["Location"],
                                code_verifier=verifier)
    userinfo = relying.discovery()["userinfo_endpoint"]
    assert session.get(userinfo).status_code == 200
    page = browser.get("/accounts/sessions/")
    assert page.status_code == 200 and "Hộ tịch điện tử" in page.text and "Sign out of Hộ tịch điện tử" in page.text
    system = re.search(r'name="system" value="(\d+)"', page.text).group(1)
    stranger = Browser(provider["base"])  # without the person's session (and its CSRF token): refused
    assert stranger.http.post(f"{provider['base']}/accounts/sessions/", data={"system": system},
                              allow_redirects=False, timeout=30).status_code == 403
    answer = browser.http.post(f"{provider['base']}/accounts/sessions/",
                               data={"csrfmiddlewaretoken": csrf_of(page.text), "system": system},
                               headers={"Referer": f"{provider['base']}/accounts/sessions/"}, allow_redirects=False,
                               timeout=30)
    assert answer.status_code == 302
    assert session.get(userinfo).status_code == 401  # the access token is gone
    refreshed = requests.post(relying.discovery()["token_endpoint"], timeout=30, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": relying.client_id,
        "client_secret": relying.client_secret})
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert "Hộ tịch điện tử" not in browser.get("/accounts/sessions/").text
    assert Event.objects.filter(event_type="account.system_access_revoked").count() == 1
