"""A real OpenID Connect relying party for tests: Authlib's OAuth2Session for the protocol, requests.Session as the
person's browser (sign-in form and consent form posted with their CSRF tokens), over loopback only."""
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never fetched: the test reads the Location header
POST_LOGOUT_URI = "http://127.0.0.1:9/signed-out"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def hidden_fields(html: str) -> dict:
    fields = {}
    for tag in re.findall(r"<input[^>]+>", html):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)
            value = re.search(r'value="([^"]*)"', tag)
            fields[name] = (value.group(1) if value else "").replace("&amp;", "&").replace("&quot;", '"')
    return fields


def query_of(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Relying:
    base: str
    client_id: str
    client_secret: str

    def discovery(self) -> dict:
        return requests.get(f"{self.base}/.well-known/openid-configuration", timeout=30).json()

    def session(self, scope: str) -> OAuth2Session:
        return OAuth2Session(self.client_id, self.client_secret, scope=scope, redirect_uri=REDIRECT_URI,
                             code_challenge_method="S256")

    def verify_id_token(self, id_token: str, nonce: str) -> dict:
        meta = self.discovery()
        keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=30).json())
        token = jwt.decode(id_token, keys, algorithms=["RS256"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": meta["issuer"]},
                              aud={"essential": True, "value": self.client_id},
                              nonce={"essential": True, "value": nonce}).validate(token.claims)
        return token.claims


class Browser:
    """The person's browser: cookies kept, redirects not followed (each step is checked)."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def get(self, url: str) -> requests.Response:
        return self.http.get(urljoin(self.base, url), allow_redirects=False, timeout=30)

    def sign_in(self, login_location: str, username: str, password: str) -> str:
        """Post the sign-in form the authorize endpoint sent us to; returns where it sends us next."""
        page = self.get(login_location)
        assert page.status_code == 200, page.text
        next_url = query_of(login_location)["next"]
        answer = self.http.post(urljoin(self.base, urlsplit(login_location).path),
                                data={"csrfmiddlewaretoken": csrf_of(page.text), "username": username,
                                      "password": password, "next": next_url},
                                headers={"Referer": urljoin(self.base, login_location)}, allow_redirects=False,
                                timeout=30)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def consent(self, authorize_url: str, allow: bool) -> requests.Response:
        page = self.get(authorize_url)
        assert page.status_code == 200, page.text
        data = {"csrfmiddlewaretoken": csrf_of(page.text), **hidden_fields(page.text)}
        if allow:
            data["allow"] = "on"
        return self.http.post(urljoin(self.base, authorize_url), data=data, allow_redirects=False, timeout=30,
                              headers={"Referer": urljoin(self.base, authorize_url)})


def start(relying: Relying, browser: Browser, scope: str, **extra) -> tuple[OAuth2Session, str, str, str]:
    """Begin a sign-in: (session, authorization URL, code verifier, nonce)."""
    session = relying.session(scope)
    verifier, nonce = generate_token(48), generate_token(20)
    url, _state = session.create_authorization_url(relying.discovery()["authorization_endpoint"],
                                                   code_verifier=verifier, nonce=nonce, **extra)
    return session, url, verifier, nonce


def sign_in_and_consent(relying: Relying, browser: Browser, scope: str, username: str, password: str,
                        allow: bool = True) -> tuple[OAuth2Session, requests.Response, str, str]:
    """The whole browser part: authorize → sign-in form → consent. Returns (session, consent answer, verifier,
    nonce); the answer's Location is the redirect back to the relying party."""
    session, url, verifier, nonce = start(relying, browser, scope)
    first = browser.get(url)
    if first.status_code == 302 and "/accounts/login/" in first.headers["Location"]:
        url = browser.sign_in(first.headers["Location"], username, password)
    return session, browser.consent(url, allow), verifier, nonce
