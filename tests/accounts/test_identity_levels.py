"""Citizen accounts: self-registration at level 1, level 2 by the population registry + a code sent to the contact
registered THERE, or by a desk officer; contact changes take effect only with a code; sessions and history."""
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from egov.accounts import services
from egov.accounts.models import OneTimeCode, Role, User, UserSession
from egov.kernel.access import SYSTEM
from egov.kernel.ledger_models import Event
from egov.notifications.models import Message
from egov.registries import services as registry
from egov.registries.models import PersonalData
from tests.accounts.conftest import PASSWORD, totp_code

HA = dict(personal_id_number="079303001234", full_name="Đỗ Thị Hà", date_of_birth="2003-05-17", channel="sms")


@pytest.fixture
def ha(db):
    return registry.register_person(PersonalData(
        personal_id_number="079303001234", full_name="Đỗ Thị Hà", date_of_birth=date(2003, 5, 17), sex="female",
        phone="0987654321", email="ha@example.org"), caller=SYSTEM)


@pytest.fixture
def citizen(make_user):
    user = make_user("cong-dan")
    browser = Client()
    browser.force_login(user)
    return user, browser


def last_code(user) -> tuple[Message, str]:
    """The newest message sent for ``user`` and the code in it (as the person reads it on their phone)."""
    message = Message.objects.filter(user=user).latest("id")
    text = message.content()["text"]
    return message, next(word for word in text.replace(".", " ").split() if word.isdigit() and len(word) == 6)


def ask_code(browser, **changes) -> str:
    response = browser.post("/accounts/verify/", {**HA, **changes})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


# --- Registration ----------------------------------------------------------------------------------------------------

def test_a_citizen_registers_at_level_1_and_is_signed_in(db):
    browser = Client()
    response = browser.post("/accounts/register/", {"username": "nguyen.an", "email": "An@Example.org",
                                                    "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/me/"
    user = User.objects.get(username="nguyen.an")
    assert user.assurance_level == 1 and user.role == Role.CITIZEN and user.email == "an@example.org"
    assert Event.objects.filter(event_type="account.registered", subject_id=str(user.pk)).exists()
    page = browser.get("/accounts/me/").content.decode()
    assert "Level 1" in page and 'href="/accounts/verify/"' in page


def test_a_taken_username_is_refused_and_what_was_typed_is_kept(make_user):
    make_user("nguyen.an")
    response = Client().post("/accounts/register/", {"username": "Nguyen.An", "email": "an2@example.org",
                                                     "password1": PASSWORD, "password2": PASSWORD})
    page = response.content.decode()
    assert response.status_code == 400 and "This username is taken" in page and 'value="an2@example.org"' in page
    assert User.objects.count() == 1


def test_different_passwords_and_weak_passwords_are_named(db):
    page = Client().post("/accounts/register/", {"username": "an", "email": "an@example.org", "password1": PASSWORD,
                                                 "password2": PASSWORD + "x"}).content.decode()
    assert "The two passwords differ" in page
    page = Client().post("/accounts/register/", {"username": "an", "email": "an@example.org",
                                                 "password1": "12345678901", "password2": "12345678901"})
    assert page.status_code == 400 and "entirely numeric" in page.content.decode()
    assert not User.objects.exists()


# --- Level 2 through the registry and a code ---------------------------------------------------------------------------

def test_level_2_with_the_code_sent_to_the_phone_registered_in_the_population_registry(citizen, ha):
    user, browser = citizen
    code_page = ask_code(browser)
    message, code = last_code(user)
    assert message.content()["recipient"] == "0987654321" and message.channel == "sms"
    assert "09******21" in browser.get(code_page).content.decode()
    user.refresh_from_db()
    assert user.assurance_level == 1 and user.person is None  # nothing changes before the code
    response = browser.post(code_page, {"code": code})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.assurance_level, user.assurance_method, user.person_id) == (2, "registry_code", ha.pk)
    assert browser.get("/my/data-access/").status_code == 200
    # The registry read for the match is in the person's own access log.
    assert Event.objects.filter(event_type="person.verified", subject_id=str(ha.pk)).exists()


def test_the_code_can_go_to_the_registered_email_instead(citizen, ha, mailoutbox):
    user, browser = citizen
    ask_code(browser, channel="email")
    message, code = last_code(user)
    assert message.channel == "email" and mailoutbox[-1].to == ["ha@example.org"] and code in mailoutbox[-1].body


def test_a_mismatched_identity_gets_a_specific_message_and_changes_nothing(citizen, ha):
    user, browser = citizen
    for changes in ({"full_name": "Đỗ Thị Hoa"}, {"date_of_birth": "2003-05-18"},
                    {"personal_id_number": "079303009999"}):
        response = browser.post("/accounts/verify/", {**HA, **changes})
        page = response.content.decode()
        assert response.status_code == 400 and "do not match the population registry" in page
        assert 'value="Đỗ Thị H' in page  # what was typed is kept
    user.refresh_from_db()
    assert user.assurance_level == 1 and not OneTimeCode.objects.exists() and not Message.objects.exists()


def test_an_invalid_number_names_the_rule_it_breaks(citizen, ha):
    _, browser = citizen
    page = browser.post("/accounts/verify/", {**HA, "personal_id_number": "999303001234"}).content.decode()
    assert "province" in page.lower()


def test_a_wrong_code_counts_and_the_fifth_locks_it(citizen, ha):
    user, browser = citizen
    code_page = ask_code(browser)
    _, code = last_code(user)
    wrong = "000000" if code != "000000" else "111111"
    page = browser.post(code_page, {"code": wrong}).content.decode()
    assert "The code is wrong. 4 tries left." in page
    for _ in range(4):
        page = browser.post(code_page, {"code": wrong}).content.decode()
    assert "that was the last try" in page
    page = browser.post(code_page, {"code": code}).content.decode()
    assert "Too many wrong codes" in page
    user.refresh_from_db()
    assert user.assurance_level == 1


def test_an_expired_code_is_refused_with_its_own_message(citizen, ha):
    user, browser = citizen
    code_page = ask_code(browser)
    _, code = last_code(user)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = browser.post(code_page, {"code": code}).content.decode()
    assert "This code has expired" in page
    user.refresh_from_db()
    assert user.assurance_level == 1


def test_a_used_code_cannot_be_replayed(citizen, ha):
    user, browser = citizen
    code_page = ask_code(browser)
    _, code = last_code(user)
    browser.post(code_page, {"code": code})
    page = browser.post(code_page, {"code": code})
    assert page.status_code == 400 and "This code has been used already" in page.content.decode()
    with pytest.raises(services.CodeRefused) as refused:
        services.confirm_identity_code(user, OneTimeCode.objects.get().uid, code)
    assert refused.value.rule == "used"


def test_another_accounts_code_request_is_not_reachable(citizen, ha, make_user):
    user, browser = citizen
    code_page = ask_code(browser)
    other = Client()
    other.force_login(make_user("nguoi-khac"))
    assert other.get(code_page).status_code == 404


def test_no_phone_in_the_registry_says_so(citizen, db):
    registry.register_person(PersonalData(personal_id_number="079303001234", full_name="Đỗ Thị Hà",
                                          date_of_birth=date(2003, 5, 17), sex="female"), caller=SYSTEM)
    page = citizen[1].post("/accounts/verify/", HA).content.decode()
    assert "no phone number for you" in page


def test_an_identity_linked_to_another_account_is_refused(citizen, ha, make_user):
    make_user("da-xac-thuc", person=ha, assurance_level=2)
    page = citizen[1].post("/accounts/verify/", HA).content.decode()
    assert "already linked to another account" in page


def test_a_deceased_person_cannot_be_verified(citizen, ha):
    from egov.accounts.services import caller_for_user

    registrar = User.objects.create(username="ho-tich", role=Role.DESK_OFFICER)
    registry.register_death(ha.uid, caller=caller_for_user(registrar), date_of_death=date(2026, 1, 2))
    page = citizen[1].post("/accounts/verify/", HA).content.decode()
    assert "recorded as deceased" in page


def test_codes_are_limited_per_hour(citizen, ha):
    user, browser = citizen
    for _ in range(5):
        ask_code(browser)
    page = browser.post("/accounts/verify/", HA).content.decode()
    assert "Too many codes asked for" in page


def test_the_outbox_keeps_recipient_and_text_sealed(citizen, ha):
    ask_code(citizen[1])
    message = Message.objects.get()
    assert "0987654321" not in message.sealed and "Đỗ" not in message.sealed
    assert message.recipient_hint == "09******21"


# --- At the desk -------------------------------------------------------------------------------------------------------

def officer_browser(user, enrolled) -> Client:
    device = enrolled(user)
    browser = Client()
    browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    browser.post("/accounts/login/totp/", {"code": totp_code(device)})
    return browser


def test_a_desk_officer_raises_a_citizen_to_level_2_after_seeing_the_card(make_user, enrolled, ha, agencies):
    citizen = make_user("cong-dan")
    officer = make_user("mot-cua", role=Role.DESK_OFFICER, agency=agencies["justice"])
    browser = officer_browser(officer, enrolled)
    page = browser.post("/accounts/desk/verify/", {"username": "cong-dan", "personal_id_number": "079303001234"})
    assert page.status_code == 400 and "Confirm that you checked" in page.content.decode()
    page = browser.post("/accounts/desk/verify/", {"username": "cong-dan", "personal_id_number": "079303001234",
                                                   "document_checked": "on"})
    assert page.status_code == 200 and "is now at level 2" in page.content.decode()
    citizen.refresh_from_db()
    assert (citizen.assurance_level, citizen.assurance_method, citizen.person_id) == (2, "desk", ha.pk)
    event = Event.objects.get(event_type="account.assurance_raised")
    assert event.actor_id == officer.pk


def test_only_desk_officers_verify_at_the_desk(make_user, enrolled, agencies, citizen):
    leader = make_user("lanh-dao", role=Role.AGENCY_LEADER, agency=agencies["justice"])
    assert officer_browser(leader, enrolled).get("/accounts/desk/verify/").status_code == 403
    assert citizen[1].get("/accounts/desk/verify/").status_code == 403
    assert Client().get("/accounts/desk/verify/").status_code == 302


# --- Contact details ---------------------------------------------------------------------------------------------------

def test_a_new_email_takes_effect_only_after_its_code(citizen, mailoutbox):
    user, browser = citizen
    response = browser.post("/accounts/contact/", {"field": "email", "value": "moi@example.org"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "cong-dan@example.org"
    assert mailoutbox[-1].to == ["moi@example.org"]
    _, code = last_code(user)
    browser.post(response["Location"], {"code": code})
    user.refresh_from_db()
    assert user.email == "moi@example.org"
    event = Event.objects.get(event_type="account.contact_changed")
    assert event.payload == {"field": "email"}


def test_a_bad_phone_number_is_named(citizen):
    page = citizen[1].post("/accounts/contact/", {"field": "phone", "value": "12345"}).content.decode()
    assert "Vietnamese mobile number of 10 digits" in page and 'value="12345"' in page


# --- Sessions and history ------------------------------------------------------------------------------------------

def signed_in(username: str) -> Client:
    browser = Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile")
    assert browser.post("/accounts/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return browser


def test_the_owner_sees_their_sessions_and_signs_one_out(make_user):
    make_user("cong-dan")
    phone, laptop = signed_in("cong-dan"), signed_in("cong-dan")
    page = laptop.get("/accounts/sessions/").content.decode()
    assert page.count("Sign out this session") == 2 and "Chrome / Android" in page and "this browser" in page
    phone_session = UserSession.objects.get(session_key=phone.session.session_key)
    assert laptop.post("/accounts/sessions/", {"session": phone_session.pk}).status_code == 302
    assert phone.get("/accounts/me/").status_code == 302  # signed out: back to the sign-in page
    assert laptop.get("/accounts/me/").status_code == 200
    assert "Sign out this session" in laptop.get("/accounts/sessions/").content.decode()


def test_nobody_signs_out_another_accounts_session(make_user):
    make_user("cong-dan")
    make_user("nguoi-khac")
    victim, other = signed_in("cong-dan"), signed_in("nguoi-khac")
    victim_session = UserSession.objects.get(session_key=victim.session.session_key)
    assert other.post("/accounts/sessions/", {"session": victim_session.pk}).status_code == 404
    assert other.post("/accounts/sessions/", {"session": "x"}).status_code == 400
    assert victim.get("/accounts/me/").status_code == 200


def test_signing_out_ends_the_session_row(make_user):
    make_user("cong-dan")
    browser = signed_in("cong-dan")
    key = browser.session.session_key
    browser.post("/accounts/logout/")
    assert UserSession.objects.get(session_key=key).end_reason == "signed_out"


def test_the_history_lists_sign_ins_and_failures(make_user):
    make_user("cong-dan")
    Client().post("/accounts/login/", {"username": "cong-dan", "password": "wrong-password-1"})
    browser = signed_in("cong-dan")
    page = browser.get("/accounts/history/").content.decode()
    assert "Signed in" in page and "Failed sign-in (wrong password)" in page
    assert browser.get("/accounts/history/?before=x").status_code == 400
    assert Client().get("/accounts/history/").status_code == 302


# --- The demo outbox ---------------------------------------------------------------------------------------------------

def test_the_demo_outbox_shows_the_code_and_exists_only_in_the_demo(citizen, ha, settings):
    user, browser = citizen
    ask_code(browser)
    _, code = last_code(user)
    assert code in Client().get("/demo/outbox/").content.decode()
    settings.DEMO_OUTBOX = False
    assert Client().get("/demo/outbox/").status_code == 404


def test_production_refuses_the_demo_outbox():
    from django.core.exceptions import ImproperlyConfigured

    from egov import config

    from egov.kernel import crypto

    own_keys = crypto.new_key_spec("k1")
    with pytest.raises(ImproperlyConfigured, match="EGOV_SMS_BACKEND"):
        config.refuse_unsafe_production("x" * 50, False, ["egov.example"], own_keys, sms_backend=config.DEMO_SMS_BACKEND)
    with pytest.raises(ImproperlyConfigured, match="EGOV_SMS_URL"):
        config.refuse_unsafe_production("x" * 50, False, ["egov.example"], own_keys,
                                        sms_backend="egov.notifications.backends.HttpSmsBackend")
    config.refuse_unsafe_production("x" * 50, False, ["egov.example"], own_keys,
                                    sms_backend="egov.notifications.backends.HttpSmsBackend",
                                    sms_url="https://sms.example.vn/send")


# --- The SMS provider edge ---------------------------------------------------------------------------------------------

def test_the_http_sms_backend_posts_to_the_provider_over_real_http():
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from egov.notifications.backends import DeliveryFailed, HttpSmsBackend

    received = []

    class Provider(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.headers["Authorization"], json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            answer = b'{"id": "msg-42"}' if self.headers["Authorization"] == "Bearer sekret" else b'{"error": "auth"}'
            self.send_response(200 if answer.startswith(b'{"id"') else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/send"
    try:
        assert HttpSmsBackend(url=url, token="sekret").send(to="0987654321", text="hello") == "msg-42"
        assert received[-1] == ("Bearer sekret", {"to": "0987654321", "text": "hello"})
        with pytest.raises(DeliveryFailed):
            HttpSmsBackend(url=url, token="wrong").send(to="0987654321", text="hello")
    finally:
        server.shutdown()
    with pytest.raises(DeliveryFailed):
        HttpSmsBackend(url=url, token="sekret", timeout=1).send(to="0987654321", text="hello")  # provider gone


def test_a_failed_delivery_is_kept_and_the_person_told(citizen, ha, settings):
    settings.SMS_BACKEND = "egov.notifications.backends.HttpSmsBackend"
    settings.SMS_URL = ""
    user, browser = citizen
    page = browser.post("/accounts/verify/", HA).content.decode()
    assert "could not be sent just now" in page
    assert Message.objects.get().status == Message.Status.FAILED


# --- Keys: messages and pending changes rotate with everything else ---------------------------------------------------

def test_a_key_rotation_re_seals_messages_and_pending_contact_changes(citizen, settings, mailoutbox):
    from egov.kernel import crypto
    from egov.registries.services import key_usage, rotate_keys

    old, new = crypto.new_key_spec("old2026"), crypto.new_key_spec("new2027")
    settings.PERSONAL_DATA_KEYS = old
    user, browser = citizen
    code_page = browser.post("/accounts/contact/", {"field": "email", "value": "moi@example.org"})["Location"]
    _, code = last_code(user)
    assert key_usage()["old2026"]["messages"] == 1 and key_usage()["old2026"]["codes"] == 1
    settings.PERSONAL_DATA_KEYS = f"{new},{old}"
    report = rotate_keys(batch_size=10)
    assert report.counts["messages"] == 1 and report.counts["codes"] == 1 and "1 messages" in report.line()
    settings.PERSONAL_DATA_KEYS = new  # the old key is gone: the outbox and the pending change still open
    assert code in Client().get("/demo/outbox/").content.decode()
    browser.post(code_page, {"code": code})
    user.refresh_from_db()
    assert user.email == "moi@example.org"


def test_nobody_signs_another_person_out_of_an_agency_system(make_user):
    from datetime import timedelta as delta

    from django.core.exceptions import PermissionDenied
    from oauth2_provider.models import AccessToken, Application

    owner, other = make_user("cong-dan"), make_user("nguoi-khac")
    app = Application.objects.create(name="Hộ tịch", client_type="confidential",
                                     authorization_grant_type="authorization-code", redirect_uris="https://a.example/cb")
    AccessToken.objects.create(user=owner, application=app, token="t-1", expires=timezone.now() + delta(hours=1),
                               scope="openid")
    browser = Client()
    browser.force_login(other)
    assert browser.post("/accounts/sessions/", {"system": app.pk}).status_code == 404
    assert browser.post("/accounts/sessions/", {"system": "x"}).status_code == 400
    with pytest.raises(PermissionDenied):
        services.revoke_system_access(other, app.pk)
    assert AccessToken.objects.filter(user=owner).count() == 1


def test_a_username_taken_at_the_same_moment_is_refused_not_a_500(db, monkeypatch):
    from egov.accounts import services as account_services

    real_exists = account_services.User.objects.filter

    def race(*args, **kwargs):  # the check sees nobody; the row arrives before the insert
        query = real_exists(*args, **kwargs)
        if "username__iexact" in kwargs and not User.objects.filter(username="racer").exists():
            User.objects.create(username="racer", email="first@example.org")
            return User.objects.none()
        return query

    monkeypatch.setattr(account_services.User.objects, "filter", race)
    response = Client().post("/accounts/register/", {"username": "racer", "email": "second@example.org",
                                                     "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 400 and "This username is taken" in response.content.decode()
    assert User.objects.filter(email="second@example.org").count() == 0


def test_a_missing_choice_is_named_beside_the_choices_and_the_value_kept(citizen):
    page = citizen[1].post("/accounts/contact/", {"value": "moi@example.org"})
    text = page.content.decode()
    assert page.status_code == 400 and "This field is required." in text and 'value="moi@example.org"' in text
    assert 'id="id_field_error"' in text
