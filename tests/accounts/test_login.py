"""Sign-in: Argon2, the database-held throttle (no account enumeration), ledger events."""
import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from egov.accounts.models import LoginFailure, Role
from egov.kernel.ledger_models import Event
from tests.accounts.conftest import PASSWORD

LOGIN = "/accounts/login/"


def post_login(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def test_login_url_and_name():
    assert reverse("accounts:login") == LOGIN


def test_passwords_are_hashed_with_argon2(make_user):
    assert identify_hasher(make_user("citizen").password).algorithm == "argon2"


def test_citizen_signs_in_without_second_factor(client, make_user):
    make_user("citizen")
    response = post_login(client, "citizen", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert Event.objects.filter(event_type="account.login_succeeded", partition="platform").count() == 1


def test_next_is_kept_but_never_sent_off_site(client, make_user):
    make_user("citizen")
    assert post_login(client, "citizen", PASSWORD, next="/accounts/password/reset/")["Location"] == \
        "/accounts/password/reset/"
    client.logout()
    assert post_login(client, "citizen", PASSWORD, next="https://evil.example/")["Location"] == reverse("portal:home")


def test_officer_goes_to_enrolment_or_totp_after_password(client, agencies, make_user, enrolled):
    make_user("new", Role.DESK_OFFICER, agencies["justice"])
    assert post_login(client, "new", PASSWORD)["Location"].startswith(reverse("accounts:totp_enrol"))
    client.logout()
    enrolled(make_user("old", Role.DESK_OFFICER, agencies["justice"]))
    assert post_login(client, "old", PASSWORD)["Location"].startswith(reverse("accounts:totp"))
    event = Event.objects.filter(event_type="account.login_succeeded").last()
    assert event.partition == "000.00.12.H29" and event.payload == {"second_factor_required": True}


def test_wrong_password_is_refused_with_the_same_message_as_unknown_user(client, make_user):
    make_user("citizen")
    wrong = post_login(client, "citizen", "nope-nope-nope")
    unknown = post_login(client, "nobody", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    failed = Event.objects.filter(event_type="account.login_failed").order_by("id")
    assert [e.payload for e in failed] == [{"known_account": True}, {"known_account": False}]
    assert "citizen" not in str([e.payload for e in failed])  # no username in the ledger


@pytest.mark.parametrize("username", ["citizen", "nobody"])
def test_throttled_after_the_limit_with_a_retry_time_even_for_the_right_password(client, make_user, settings,
                                                                                   username):
    settings.LOGIN_THROTTLE_FAILURES = 3
    make_user("citizen")
    for _ in range(3):
        assert "throttled" not in str(post_login(client, username, "wrong-password-1").context["form"].errors)
    response = post_login(client, username, PASSWORD if username == "citizen" else "wrong-password-1")
    assert response.status_code == 200  # the form again, not signed in
    message = " ".join(response.context["form"].non_field_errors())
    assert "Too many failed sign-in attempts" in message and "Try again after" in message
    assert "_auth_user_id" not in client.session
    assert Event.objects.filter(event_type="account.login_throttled").count() == 1


def test_throttle_counts_usernames_case_insensitively(client, make_user, settings):
    settings.LOGIN_THROTTLE_FAILURES = 2
    make_user("citizen")
    post_login(client, "Citizen", "wrong-password-1")
    post_login(client, " CITIZEN", "wrong-password-1")
    assert "Too many" in str(post_login(client, "citizen", PASSWORD).context["form"].errors)


def test_throttle_per_client_address(client, make_user, settings):
    settings.LOGIN_THROTTLE_FAILURES = 100
    settings.LOGIN_THROTTLE_ADDRESS_FAILURES = 3
    make_user("citizen")
    for n in range(3):
        post_login(client, f"guess{n}", "wrong-password-1")
    assert "Too many" in str(post_login(client, "citizen", PASSWORD).context["form"].errors)
    # Another address is not affected.
    other = client.post(LOGIN, {"username": "citizen", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_success_clears_the_username_counter(client, make_user, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    make_user("citizen")
    post_login(client, "citizen", "wrong-password-1")
    post_login(client, "citizen", "wrong-password-1")
    assert post_login(client, "citizen", PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(kind="username").exists()
    client.logout()
    post_login(client, "citizen", "wrong-password-1")
    post_login(client, "citizen", "wrong-password-1")
    assert post_login(client, "citizen", PASSWORD).status_code == 302


def test_old_failures_outside_the_window_do_not_count(client, make_user, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.LOGIN_THROTTLE_FAILURES = 2
    make_user("citizen")
    long_ago = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS + 1)
    LoginFailure.objects.bulk_create([LoginFailure(kind="username", key="citizen", at=long_ago)] * 5)
    assert post_login(client, "citizen", PASSWORD).status_code == 302


def test_empty_form_gets_field_errors_not_a_500(client):
    response = client.post(LOGIN, {})
    assert response.status_code == 200 and set(response.context["form"].errors) == {"username", "password"}


def test_disabled_account_cannot_sign_in(client, make_user):
    make_user("citizen", is_active=False)
    assert post_login(client, "citizen", PASSWORD).status_code == 200
    assert "_auth_user_id" not in client.session
