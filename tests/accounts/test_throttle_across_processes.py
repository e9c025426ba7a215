"""The sign-in limit holds across server processes: failures alternate between two gunicorn servers that share only
the database."""
import http.cookiejar
import re
import urllib.parse
import urllib.request

import pytest

from egov.accounts.models import LoginFailure
from tests.accounts.conftest import PASSWORD


class Browser:
    """A minimal HTTP client with its own cookie jar: GET the form, read the CSRF token, POST it back."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def sign_in(self, base_url: str, username: str, password: str) -> tuple[int, str]:
        with self.opener.open(f"{base_url}/accounts/login/", timeout=30) as response:
            html = response.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username,
                                       "password": password}).encode()
        request = urllib.request.Request(f"{base_url}/accounts/login/", data=data,
                                         headers={"Referer": f"{base_url}/accounts/login/"})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as answer:  # 302 after a successful sign-in (redirects are not followed)
            return answer.code, answer.read().decode()


# The servers answer in Vietnamese, the default language (the visitor has not chosen another).
THROTTLED = "Đăng nhập sai quá nhiều lần"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.django_db(transaction=True)
def test_failed_sign_ins_alternating_between_two_servers_hit_one_limit(server_processes, make_user, settings):
    make_user("citizen")
    limit = settings.LOGIN_THROTTLE_FAILURES  # the servers read the same default (5)
    first, second = server_processes(2)
    browser = Browser()
    for attempt in range(limit):
        status, html = browser.sign_in((first, second)[attempt % 2], "citizen", "wrong-password-1")
        assert status == 200 and THROTTLED not in html, f"attempt {attempt + 1}"
    assert LoginFailure.objects.filter(kind="username", key="citizen").count() == limit
    for base_url in (first, second):
        status, html = browser.sign_in(base_url, "citizen", PASSWORD)  # even the right password is refused now
        assert status == 200 and THROTTLED in html and "Vui lòng thử lại sau" in html


@pytest.mark.django_db(transaction=True)
def test_success_on_one_server_clears_the_counter_for_the_other(server_processes, make_user, settings):
    make_user("citizen")
    first, second = server_processes(2)
    browser = Browser()
    for _ in range(settings.LOGIN_THROTTLE_FAILURES - 1):
        browser.sign_in(first, "citizen", "wrong-password-1")
    assert browser.sign_in(second, "citizen", PASSWORD)[0] == 302
    assert not LoginFailure.objects.filter(kind="username").exists()
