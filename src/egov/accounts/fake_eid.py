"""A fake national eID: a small but real OpenID Connect provider, for the tests and the demo. NEVER for production.

Standard library WSGI server (one thread per request) and joserfc for RS256 signing with a key generated at start
(held in memory only). Endpoints: discovery, JWKS, authorize (a page listing the demo identities, or straight through
with ``login_hint=<identification number>``; ``login_hint=deny`` answers ``access_denied``), token (checks the client
secret, the redirect URI, PKCE S256; codes are single-use and expire), userinfo.

Tests make it misbehave on request (``provider.misbehave``): ``wrong_signature`` signs the ID token with a key not in
the JWKS, ``wrong_audience``, ``wrong_nonce``, ``wrong_issuer`` and ``expired`` spoil that claim.

``egov fake-eid`` serves it on http://127.0.0.1:8002 with identities from the demo population.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, unquote, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from joserfc import jwt
from joserfc.jwk import RSAKey

from egov.config import DEMO_EID_CLIENT_ID as DEMO_CLIENT_ID
from egov.config import DEMO_EID_CLIENT_SECRET as DEMO_CLIENT_SECRET
CODE_LIFETIME_SECONDS = 120
MISBEHAVIOURS = frozenset({"wrong_signature", "wrong_audience", "wrong_nonce", "wrong_issuer", "expired"})


@dataclass(frozen=True)
class Identity:
    personal_id_number: str
    full_name: str
    birthdate: str  # YYYY-MM-DD
    note: str = ""  # shown on the choice page (demo): what to expect

    @property
    def subject(self) -> str:
        # A pairwise-looking subject that is not the number itself, as a real provider would issue.
        return hashlib.sha256(f"fake-eid:{self.personal_id_number}".encode()).hexdigest()[:32]


def demo_identities() -> list[Identity]:
    """Persons of the demo population (egov.registries.demo_population), and two that go wrong on purpose."""
    return [
        Identity("079303001234", "Đỗ Thị Hà", "2003-03-15", "linked to demo.citizen"),
        Identity("036072004321", "Đỗ Văn Hùng", "1972-08-20", "no account yet: one is opened"),
        Identity("079176005678", "Nguyễn Thị Lan", "1976-11-02", "no account yet: one is opened"),
        Identity("079208009012", "Đỗ Minh Khang", "2008-06-30", "no account yet: one is opened"),
        Identity("079208009012", "Đỗ Minh Khoa", "2008-06-30", "name differs from the registry: refused"),
        Identity("001099000001", "Trần Văn Không", "1999-01-01", "number not in the registry: refused"),
    ]


def _b64url_sha256(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


class FakeEidProvider:
    """The WSGI application. ``clients`` maps client id to secret."""

    def __init__(self, issuer: str, identities: list[Identity], clients: dict[str, str] | None = None):
        self.issuer = issuer.rstrip("/")
        self.identities = list(identities)
        self.clients = dict(clients or {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET})
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})
        self.misbehave: set[str] = set()
        self._codes: dict[str, dict] = {}
        self._tokens: dict[str, Identity] = {}
        self._lock = threading.Lock()
        self.token_requests = 0

    # --- WSGI -----------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        routes = {"/.well-known/openid-configuration": self.discovery, "/jwks": self.jwks,
                  "/authorize": self.authorize, "/token": self.token, "/userinfo": self.userinfo}
        handler = routes.get(path)
        if handler is None:
            return self._reply(start_response, "404 Not Found", {"error": "not_found"})
        try:
            return handler(environ, query, start_response)
        except Exception as exc:  # noqa: BLE001 (a fake must answer, not hang the test that drives it)
            return self._reply(start_response, "500 Internal Server Error", {"error": "server_error",
                                                                             "error_description": str(exc)})

    @staticmethod
    def _reply(start_response, status: str, body, headers: list | None = None, content_type="application/json"):
        data = (json.dumps(body, ensure_ascii=False) if content_type == "application/json" else body).encode()
        start_response(status, [("Content-Type", f"{content_type}; charset=utf-8"), ("Cache-Control", "no-store"),
                                *(headers or [])])
        return [data]

    def _redirect(self, start_response, url: str):
        start_response("302 Found", [("Location", url), ("Cache-Control", "no-store")])
        return [b""]

    # --- endpoints ------------------------------------------------------------------------------------------
    def discovery(self, environ, query, start_response):
        return self._reply(start_response, "200 OK", {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "name", "birthdate", "personal_id_number"],
        })

    def jwks(self, environ, query, start_response):
        return self._reply(start_response, "200 OK", {"keys": [self.key.as_dict(private=False)]})

    def authorize(self, environ, query, start_response):
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if client_id not in self.clients or not redirect_uri.startswith(("http://", "https://")):
            # Never redirect to an unverified address: the error is shown here (RFC 6749 §4.1.2.1).
            return self._reply(start_response, "400 Bad Request", {"error": "invalid_request",
                                                                   "error_description": "unknown client or redirect"})
        back = {"state": query["state"]} if "state" in query else {}
        separator = "&" if urlsplit(redirect_uri).query else "?"
        if (query.get("response_type") != "code" or query.get("code_challenge_method") != "S256"
                or not query.get("code_challenge") or "openid" not in query.get("scope", "").split()):
            return self._redirect(start_response, redirect_uri + separator + urlencode(
                {"error": "invalid_request", **back}))
        hint = query.get("login_hint", "")
        if hint == "deny":
            return self._redirect(start_response, redirect_uri + separator + urlencode(
                {"error": "access_denied", **back}))
        chosen = query.get("choose", "")
        identity = None
        if chosen.isdigit() and int(chosen) < len(self.identities):
            identity = self.identities[int(chosen)]
        elif hint:
            identity = next((i for i in self.identities if i.personal_id_number == hint), None)
        if identity is None:
            return self._choice_page(start_response, query)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {"client_id": client_id, "redirect_uri": redirect_uri, "identity": identity,
                                 "nonce": query.get("nonce"), "challenge": query["code_challenge"],
                                 "expires": time.time() + CODE_LIFETIME_SECONDS}
        return self._redirect(start_response, redirect_uri + separator + urlencode({"code": code, **back}))

    def _choice_page(self, start_response, query):
        base = {k: v for k, v in query.items() if k not in ("choose", "login_hint")}
        items = "".join(
            f'<li><a href="/authorize?{html.escape(urlencode({**base, "choose": index}))}">'
            f"{html.escape(i.full_name)} ({html.escape(i.personal_id_number)}, {html.escape(i.birthdate)})</a>"
            f"{' — ' + html.escape(i.note) if i.note else ''}</li>"
            for index, i in enumerate(self.identities))
        cancel = html.escape(urlencode({**base, "login_hint": "deny"}))
        page = (f'<!doctype html><html lang="vi"><meta charset="utf-8"><title>Fake national eID</title>'
                f"<h1>Fake national eID (demo)</h1><p>Choose who signs in. This is NOT the real VNeID.</p>"
                f'<ul>{items}</ul><p><a href="/authorize?{cancel}">Cancel (access_denied)</a></p></html>')
        return self._reply(start_response, "200 OK", page, content_type="text/html")

    def _client(self, environ, form) -> str | None:
        header = environ.get("HTTP_AUTHORIZATION", "")
        client_id = secret = ""
        if header.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
                client_id, secret = unquote(client_id), unquote(secret)
            except ValueError:
                return None
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        expected = self.clients.get(client_id)
        if expected is None or not secrets.compare_digest(expected, secret):
            return None
        return client_id

    def token(self, environ, query, start_response):
        self.token_requests += 1
        if environ.get("REQUEST_METHOD") != "POST":
            return self._reply(start_response, "405 Method Not Allowed", {"error": "invalid_request"})
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
        client_id = self._client(environ, form)
        if client_id is None:
            return self._reply(start_response, "401 Unauthorized", {"error": "invalid_client"},
                               headers=[("WWW-Authenticate", 'Basic realm="fake-eid"')])
        if form.get("grant_type") != "authorization_code":
            return self._reply(start_response, "400 Bad Request", {"error": "unsupported_grant_type"})
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use: popped even when refused below
        verifier = form.get("code_verifier", "")
        if (grant is None or grant["expires"] < time.time() or grant["client_id"] != client_id
                or grant["redirect_uri"] != form.get("redirect_uri")
                or not secrets.compare_digest(_b64url_sha256(verifier), grant["challenge"])):
            return self._reply(start_response, "400 Bad Request", {"error": "invalid_grant"})
        identity: Identity = grant["identity"]
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[access_token] = identity
        return self._reply(start_response, "200 OK", {
            "access_token": access_token, "token_type": "Bearer", "expires_in": 300, "scope": "openid profile",
            "id_token": self._id_token(identity, client_id, grant["nonce"])})

    def _id_token(self, identity: Identity, client_id: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": identity.subject, "aud": client_id, "iat": now, "auth_time": now,
                  "exp": now + 300, "nonce": nonce, **self._personal_claims(identity)}
        if "wrong_audience" in self.misbehave:
            claims["aud"] = "another-client"
        if "wrong_nonce" in self.misbehave:
            claims["nonce"] = secrets.token_urlsafe(16)
        if "wrong_issuer" in self.misbehave:
            claims["iss"] = "https://impostor.invalid"
        if "expired" in self.misbehave:
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        key = self.key
        if "wrong_signature" in self.misbehave:
            key = RSAKey.generate_key(2048, parameters={"kid": self.key.kid, "alg": "RS256"})  # same kid, other key
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)

    @staticmethod
    def _personal_claims(identity: Identity) -> dict:
        return {"personal_id_number": identity.personal_id_number, "name": identity.full_name,
                "birthdate": identity.birthdate}

    def userinfo(self, environ, query, start_response):
        header = environ.get("HTTP_AUTHORIZATION", "")
        identity = self._tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if identity is None:
            return self._reply(start_response, "401 Unauthorized", {"error": "invalid_token"},
                               headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')])
        return self._reply(start_response, "200 OK", {"sub": identity.subject, **self._personal_claims(identity)})


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def serve(host: str, port: int, identities: list[Identity], *, clients: dict[str, str] | None = None,
          quiet: bool = True) -> tuple[FakeEidProvider, WSGIServer]:
    """Build the provider and its server bound to ``host:port`` (0: a free port); the caller runs ``serve_forever``."""
    holder: dict = {}

    def app(environ, start_response):
        return holder["provider"](environ, start_response)

    server = make_server(host, port, app, server_class=_ThreadingServer,
                         handler_class=_QuietHandler if quiet else WSGIRequestHandler)
    provider = FakeEidProvider(f"http://{host}:{server.server_address[1]}", identities, clients)
    holder["provider"] = provider
    return provider, server


def start_in_thread(identities: list[Identity], *, clients: dict[str, str] | None = None,
                    host: str = "127.0.0.1") -> tuple[FakeEidProvider, WSGIServer]:
    """For tests: serve on a free loopback port in a daemon thread; ``server.shutdown()`` stops it."""
    provider, server = serve(host, 0, identities, clients=clients)
    threading.Thread(target=server.serve_forever, name="fake-eid", daemon=True).start()
    return provider, server
