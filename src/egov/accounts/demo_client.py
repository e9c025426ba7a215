"""A demo agency system that signs its users in with egov (`egov demo-client`): "Sign in with egov", then the claims
it received. It is what an agency's own system does, kept tiny: a separate WSGI app (stdlib ``wsgiref``) on
http://127.0.0.1:8001, Authlib for OpenID Connect (authorization code with PKCE), the ID token verified against
egov's published keys (JWKS), then userinfo. It talks to egov only over HTTP, like any relying party.

Its OAuth application (``DEMO_CLIENT_ID`` with the published ``DEMO_CLIENT_SECRET``) belongs to the demo client
system ``DEMO_SSO_IDENTIFIER`` and is seeded by ``egov seed --demo`` (``ensure_demo_sign_in_application``).
Both are refused in production: the secret is in the README.
"""
from __future__ import annotations

import html
import json
import secrets
import threading
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

DEMO_CLIENT_ID = "egov-demo-agency-portal"
DEMO_CLIENT_SECRET = "demo-sso-2026-published-never-use-in-production"
DEMO_SSO_IDENTIFIER = "VN:GOV:000.00.12.H29:sso-demo"
DEMO_SSO_AGENCY = "000.00.12.H29"  # Sở Tư pháp Thành phố Hồ Chí Minh, in egov.registries.demo
DEMO_SSO_NAME = "Cổng dịch vụ Sở Tư pháp (demo)"
DEMO_CLIENT_BIND = "127.0.0.1:8001"
DEMO_SCOPES = "openid profile email phone personal_id"


def refuse_in_production(what: str) -> None:
    if getattr(settings, "ENV", "development") == "production":
        raise ImproperlyConfigured(f"{what} is refused with EGOV_ENV=production: its client secret is published.")


def demo_urls(bind: str = DEMO_CLIENT_BIND) -> tuple[list[str], list[str]]:
    """Redirect and post-logout addresses of the demo client: the default address, and ``bind``'s when it differs."""
    binds = list(dict.fromkeys([DEMO_CLIENT_BIND, bind]))
    return [f"http://{b}/callback" for b in binds], [f"http://{b}/" for b in binds]


@transaction.atomic
def ensure_demo_sign_in_application(bind: str = DEMO_CLIENT_BIND):
    """The demo client system and its sign-in application with the published secret, reset to their known state.
    Returns (application, created), or None when the demo agency is not loaded."""
    from oauth2_provider.models import get_application_model

    from egov.exchange import services as exchange
    from egov.exchange.models import ClientSystem, OidcApplication
    from egov.kernel import ledger
    from egov.kernel.access import SYSTEM
    from egov.registries.models import Agency

    refuse_in_production("The demo single sign-on client")
    agency = Agency.objects.filter(code=DEMO_SSO_AGENCY).first()
    if agency is None:
        return None
    client = ClientSystem.objects.filter(identifier=DEMO_SSO_IDENTIFIER).first()
    if client is None:
        # Its API key is random and never shown: the demo agency portal only signs people in.
        unused_key = exchange.KEY_PREFIX + secrets.token_urlsafe(32)
        client = ClientSystem.objects.create(identifier=DEMO_SSO_IDENTIFIER, name=DEMO_SSO_NAME, agency=agency,
                                             key_digest=exchange.key_digest(unused_key), key_hint=unused_key[:10])
        ledger.append("exchange.client_registered", partition=agency.code, subject=client,
                      payload={"identifier": DEMO_SSO_IDENTIFIER, "demo": True})
    elif not client.is_active:
        client.is_active = True
        client.save(update_fields=["is_active"])
    redirect_uris, logout_uris = demo_urls(bind)
    application = get_application_model().objects.filter(client_id=DEMO_CLIENT_ID).first()
    if application is None:
        application, _secret = exchange.register_oidc_client(
            caller=SYSTEM, client=client, kind=OidcApplication.Kind.SIGN_IN, redirect_uris=redirect_uris,
            post_logout_redirect_uris=logout_uris, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
        return application, True
    application.client_secret = DEMO_CLIENT_SECRET  # hashed again on save
    application.redirect_uris, application.post_logout_redirect_uris = " ".join(redirect_uris), " ".join(logout_uris)
    application.save()
    OidcApplication.objects.update_or_create(application=application,
                                             defaults={"client": client, "kind": OidcApplication.Kind.SIGN_IN})
    return application, False


# ---------------------------------------------------------------------------------------------------------------
# The relying party (runs in its own process; egov is reached only over HTTP)

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
.button{{display:inline-block;background:#8b1c1c;color:#fff;padding:.6rem 1.2rem;border-radius:4px;text-decoration:none}}
.button:focus-visible{{outline:3px solid #f2b705;outline-offset:2px}} table{{border-collapse:collapse}}
th,td{{text-align:left;padding:.3rem .8rem;border-bottom:1px solid #ddd}} .error{{color:#8b1c1c}}</style>
</head><body><header><p>{agency}</p></header><main><h1>{title}</h1>{body}</main></body></html>"""


class DemoRelyingParty:
    """The WSGI application. Sessions live in this process's memory: it is a single-user demo."""

    def __init__(self, *, provider: str, client_id: str, client_secret: str, base_url: str):
        self.provider = provider.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.base_url = base_url.rstrip("/")
        self.sessions: dict[str, dict] = {}
        self.lock = threading.Lock()
        self._metadata: dict | None = None

    # -- OpenID Connect ---------------------------------------------------------------------------------------------

    def metadata(self) -> dict:
        import requests

        if self._metadata is None:  # fetched on first use: egov may start after this app
            answer = requests.get(f"{self.provider}/.well-known/openid-configuration", timeout=10)
            answer.raise_for_status()
            self._metadata = answer.json()
        return self._metadata

    def oauth(self, **kwargs):
        from authlib.integrations.requests_client import OAuth2Session

        return OAuth2Session(self.client_id, self.client_secret, scope=DEMO_SCOPES,
                             redirect_uri=f"{self.base_url}/callback", code_challenge_method="S256", **kwargs)

    def verify_id_token(self, id_token: str, nonce: str) -> dict:
        import requests
        from joserfc import jwt
        from joserfc.jwk import KeySet

        meta = self.metadata()
        keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
        token = jwt.decode(id_token, keys, algorithms=["RS256"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": meta["issuer"]},
                              aud={"essential": True, "value": self.client_id},
                              nonce={"essential": True, "value": nonce}).validate(token.claims)
        return token.claims

    # -- WSGI -------------------------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        with translation.override(settings.LANGUAGE_CODE):
            try:
                status, headers, body = self.route(environ)
            except Exception as exc:  # noqa: BLE001 (a demo page says what went wrong rather than a bare 500)
                status, headers, body = "502 Bad Gateway", [], self.page(
                    _("Sign-in failed"), f'<p class="error">{html.escape(str(exc))}</p>' + self.back_link())
        data = body.encode("utf-8")
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                                 *headers])
        return [data]

    def route(self, environ):
        path = environ.get("PATH_INFO", "/")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        sid = cookie["demo_sid"].value if "demo_sid" in cookie else ""
        with self.lock:
            session = self.sessions.get(sid)
            if session is None:
                sid, session = secrets.token_urlsafe(24), {}
                self.sessions[sid] = session
        headers = [("Set-Cookie", f"demo_sid={sid}; HttpOnly; SameSite=Lax; Path=/")]
        if path == "/login":
            return self.login(session, headers)
        if path == "/callback":
            return self.callback(session, headers, query, environ)
        if path == "/logout":
            return self.logout(session, headers)
        if path == "/":
            return "200 OK", headers, self.home(session)
        return "404 Not Found", headers, self.page(_("Not found"), self.back_link())

    def login(self, session, headers):
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        url, state = self.oauth().create_authorization_url(self.metadata()["authorization_endpoint"],
                                                           code_verifier=verifier, nonce=nonce)
        session.update({"verifier": verifier, "nonce": nonce, "state": state})
        return "302 Found", [*headers, ("Location", url)], ""

    def callback(self, session, headers, query, environ):
        if query.get("error"):
            reason = query.get("error_description") or query["error"]
            return "200 OK", headers, self.page(_("You were not signed in"), (
                f'<p class="error">{html.escape(query["error"])}: {html.escape(reason)}</p>' + self.back_link()))
        if not session.get("state") or query.get("state") != session["state"]:
            mismatch = _("This sign-in answer does not match the one this browser started (state). Start again.")
            return "400 Bad Request", headers, self.page(_("Sign-in failed"), (
                f'<p class="error">{html.escape(mismatch)}</p>' + self.back_link()))
        client = self.oauth(state=session["state"])
        answer_url = f"{self.base_url}/callback?{environ.get('QUERY_STRING', '')}"
        token = client.fetch_token(self.metadata()["token_endpoint"], authorization_response=answer_url,
                                   code_verifier=session.pop("verifier"))
        claims = self.verify_id_token(token["id_token"], session.pop("nonce"))
        userinfo = client.get(self.metadata()["userinfo_endpoint"]).json()
        session.clear()
        session.update({"id_token": token["id_token"], "claims": claims, "userinfo": userinfo})
        return "302 Found", [*headers, ("Location", "/")], ""

    def logout(self, session, headers):
        id_token = session.get("id_token")
        session.clear()
        meta = self.metadata()
        if not id_token or not meta.get("end_session_endpoint"):
            return "302 Found", [*headers, ("Location", "/")], ""
        target = meta["end_session_endpoint"] + "?" + urlencode({
            "id_token_hint": id_token, "client_id": self.client_id, "post_logout_redirect_uri": f"{self.base_url}/"})
        return "302 Found", [*headers, ("Location", target)], ""

    def home(self, session) -> str:
        if not session.get("claims"):
            intro = _("This is a demo of an agency system. Its users sign in with their egov account.")
            button = _("Sign in with egov")
            return self.page(_("Demo agency portal"), (
                f'<p>{html.escape(intro)}</p><p><a class="button" href="/login">{html.escape(button)}</a></p>'))
        rows = "".join(f"<tr><th scope=\"row\"><code>{html.escape(k)}</code></th><td>{html.escape(str(v))}</td></tr>"
                       for k, v in sorted(session["claims"].items()))
        userinfo = html.escape(json.dumps(session["userinfo"], ensure_ascii=False, indent=2))
        texts = [html.escape(text) for text in (
            _("egov vouched for you. The ID token (verified with egov’s published keys) says:"),
            _("Claims in the ID token"), _("Answer of the userinfo endpoint"), _("Sign out (here and at egov)"))]
        return self.page(_("You are signed in"), (
            f"<p>{texts[0]}</p><table><caption>{texts[1]}</caption>{rows}</table>"
            f"<h2>{texts[2]}</h2><pre>{userinfo}</pre>"
            f'<p><a class="button" href="/logout">{texts[3]}</a></p>'))

    @staticmethod
    def back_link() -> str:
        back = _("Back")
        return f'<p><a href="/">{html.escape(back)}</a></p>'

    def page(self, title: str, body: str) -> str:
        return PAGE.format(lang=translation.get_language() or "vi", title=html.escape(title), body=body,
                           agency=html.escape(DEMO_SSO_NAME))


def run(*, bind: str = DEMO_CLIENT_BIND, provider: str = "http://127.0.0.1:8000") -> None:
    """Serve the demo relying party until interrupted (`egov demo-client`)."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIServer, make_server

    refuse_in_production("The demo agency client")
    host, _colon, port = bind.rpartition(":")
    if bind != DEMO_CLIENT_BIND:
        # Demo only (refused in production): let egov accept this address too. A real agency system's addresses
        # are registered by the platform administrator.
        ensure_demo_sign_in_application(bind=bind)

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    app = DemoRelyingParty(provider=provider, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
                           base_url=f"http://{bind}")
    with make_server(host or "127.0.0.1", int(port), app, server_class=Server) as server:
        print(f"egov demo-client: open http://{bind}/ and sign in with egov at {provider} (stop with Ctrl+C)",
              flush=True)
        server.serve_forever()
