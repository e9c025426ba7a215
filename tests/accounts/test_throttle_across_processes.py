"""The sign-in limit holds across server processes: failures alternate between two gunicorn servers that share only
the database."""
import pytest

from egov.accounts.models import LoginFailure
from tests.accounts.conftest import PASSWORD
from tests.http_client import Browser


# The servers answer in Vietnamese, the default language (the visitor has not chosen another).
THROTTLED = "Đăng nhập sai quá nhiều lần"



def sign_in(browser: Browser, base_url: str, username: str, password: str) -> tuple[int, str]:
    return browser.post_form(f"{base_url}/accounts/login/", {"username": username, "password": password})


@pytest.mark.django_db(transaction=True)
def test_failed_sign_ins_alternating_between_two_servers_hit_one_limit(server_processes, make_user, settings):
    make_user("citizen")
    limit = settings.LOGIN_THROTTLE_FAILURES  # the servers read the same default (5)
    first, second = server_processes(2)
    browser = Browser()
    for attempt in range(limit):
        status, html = sign_in(browser, (first, second)[attempt % 2], "citizen", "wrong-password-1")
        assert status == 200 and THROTTLED not in html, f"attempt {attempt + 1}"
    assert LoginFailure.objects.filter(kind="username", key="citizen").count() == limit
    for base_url in (first, second):
        status, html = sign_in(browser, base_url, "citizen", PASSWORD)  # even the right password is refused now
        assert status == 200 and THROTTLED in html and "Vui lòng thử lại sau" in html


@pytest.mark.django_db(transaction=True)
def test_success_on_one_server_clears_the_counter_for_the_other(server_processes, make_user, settings):
    make_user("citizen")
    first, second = server_processes(2)
    browser = Browser()
    for _ in range(settings.LOGIN_THROTTLE_FAILURES - 1):
        sign_in(browser, first, "citizen", "wrong-password-1")
    assert sign_in(browser, second, "citizen", PASSWORD)[0] == 302
    assert not LoginFailure.objects.filter(kind="username").exists()
