"""A minimal browser for tests that talk to real server processes over loopback: its own cookie jar, redirects not
followed (so a test sees where a sign-in sends the visitor), and forms posted with their CSRF token."""
import http.cookiejar
import re
import socket
import urllib.error
import urllib.parse
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, base_url: str = ""):
        """``base_url`` is put before every path; leave it empty to pass whole URLs (one visitor, several servers)."""
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def get(self, path: str) -> str:
        with self.opener.open(self.base_url + path, timeout=30) as response:
            return response.read().decode()

    def post_form(self, path: str, fields: dict) -> tuple[int, str]:
        """GET the page, POST ``fields`` back with its CSRF token. Returns (status, body), or (status, Location) for a
        redirect."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(path)).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(self.base_url + path, data=data, headers={"Referer": self.base_url + path})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as answer:  # redirects are not followed, so a 302 arrives here
            if 300 <= answer.code < 400:
                return answer.code, answer.headers.get("Location", "")
            return answer.code, answer.read().decode()
