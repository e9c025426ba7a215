"""The national eID (VNeID-like) as an OpenID Connect provider, egov its relying party: the protocol, no database.

Authorization code flow with PKCE (S256), ``state`` and ``nonce``. The provider is configured by its issuer URL and
client credentials (``settings.EID_*``); its endpoints and keys come from its discovery document and JWKS, fetched when
a sign-in needs them, so a provider that rotates its keys or moves an endpoint needs no change here.

The ID token is checked with Authlib's OpenID Connect claim rules (``authlib.oidc.core.CodeIDToken``: issuer, audience,
expiry, nonce, access-token hash) after its signature is verified against the provider's JWKS with joserfc, the JOSE
library Authlib itself uses for this since ``authlib.jose`` was deprecated (a dependency of Authlib, not a new one).

Every failure is an ``EidError`` whose ``rule`` says which step failed; the views turn it into a message and the
services record it in the ledger.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

# Asymmetric algorithms only: an HS256 token "signed" with the client secret would let anyone who learnt the secret
# mint identities, and "none" is never acceptable.
ALLOWED_ALGORITHMS = ["RS256", "PS256", "ES256"]
TIMEOUT_SECONDS = 10
LEEWAY_SECONDS = 60


class EidError(Exception):
    """One step of the eID sign-in failed. ``rule``: ``not_configured``, ``unreachable``, ``access_denied``,
    ``provider_error``, ``state``, ``token`` (code exchange refused), ``id_token`` (signature or claims wrong),
    ``claims`` (identity claims missing or malformed)."""

    def __init__(self, rule: str, detail: str = ""):
        super().__init__(f"{rule}: {detail}" if detail else rule)
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    claim_personal_id: str
    claim_full_name: str
    claim_birthdate: str


@dataclass(frozen=True)
class Assertion:
    """What the provider asserts about the person who signed in (personal data: never into the ledger)."""
    subject: str
    personal_id_number: str
    full_name: str
    date_of_birth: date


def configured() -> Provider | None:
    """The configured provider, or None when the feature is off (no issuer or no client id)."""
    issuer = (getattr(settings, "EID_ISSUER", "") or "").rstrip("/")
    if not issuer or not settings.EID_CLIENT_ID:
        return None
    return Provider(issuer=issuer, client_id=settings.EID_CLIENT_ID, client_secret=settings.EID_CLIENT_SECRET,
                    scopes=tuple(settings.EID_SCOPES), claim_personal_id=settings.EID_CLAIM_PERSONAL_ID,
                    claim_full_name=settings.EID_CLAIM_FULL_NAME, claim_birthdate=settings.EID_CLAIM_BIRTHDATE)


def _get_json(url: str, **kwargs) -> dict:
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS, **kwargs)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise EidError("unreachable", f"{url}: {exc}") from None
    if not isinstance(data, dict):
        raise EidError("provider_error", f"{url}: not a JSON object")
    return data


def discover(provider: Provider) -> dict:
    """The provider's discovery document. Its ``issuer`` must be the configured one (OpenID Connect Discovery §4.3):
    otherwise a document served elsewhere could point us at another provider's endpoints."""
    metadata = _get_json(f"{provider.issuer}/.well-known/openid-configuration")
    if (metadata.get("issuer") or "").rstrip("/") != provider.issuer:
        raise EidError("provider_error", "discovery issuer differs from the configured issuer")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(name), str):
            raise EidError("provider_error", f"discovery lacks {name}")
    return metadata


def _session(provider: Provider, redirect_uri: str, **kwargs) -> OAuth2Session:
    return OAuth2Session(provider.client_id, provider.client_secret, scope=" ".join(provider.scopes),
                         redirect_uri=redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_basic", **kwargs)


def begin(provider: Provider, redirect_uri: str) -> tuple[str, dict]:
    """Where to send the browser, and what to keep in the session until it comes back (state, nonce, PKCE verifier).
    The secrets never leave the session except as the provider's request parameters (the verifier only as its hash)."""
    metadata = discover(provider)
    pending = {"state": generate_token(32), "nonce": generate_token(32), "code_verifier": generate_token(64)}
    with _session(provider, redirect_uri) as session:
        url, _state = session.create_authorization_url(
            metadata["authorization_endpoint"], state=pending["state"], nonce=pending["nonce"],
            code_verifier=pending["code_verifier"])
    return url, pending


def finish(provider: Provider, pending: dict | None, params, redirect_uri: str) -> Assertion:
    """Check the provider's answer (the callback's query ``params``) against ``pending``, exchange the code, verify the
    ID token, and return what it asserts."""
    if params.get("error"):
        # The citizen cancelled (access_denied) or the provider refused the request: say which, without the code.
        raise EidError("access_denied" if params.get("error") == "access_denied" else "provider_error",
                       str(params.get("error"))[:100])
    state, code = params.get("state") or "", params.get("code") or ""
    if not pending or not state or not hmac.compare_digest(str(pending.get("state", "")), state):
        raise EidError("state", "state missing or not the one this browser was sent with")
    if not code:
        raise EidError("provider_error", "no code in the answer")
    metadata = discover(provider)
    with _session(provider, redirect_uri) as session:
        try:
            token = session.fetch_token(metadata["token_endpoint"], grant_type="authorization_code", code=code,
                                        code_verifier=pending["code_verifier"], timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise EidError("unreachable", str(exc)) from None
        except (AuthlibBaseError, ValueError, KeyError) as exc:  # error answers (invalid_grant, ...), bad JSON
            raise EidError("token", f"{type(exc).__name__}: {exc}"[:300]) from None
    claims = verify_id_token(provider, metadata, token, nonce=pending["nonce"])
    if not all(claims.get(name) for name in (provider.claim_personal_id, provider.claim_full_name,
                                              provider.claim_birthdate)) and metadata.get("userinfo_endpoint"):
        userinfo = _get_json(metadata["userinfo_endpoint"],
                             headers={"Authorization": f"Bearer {token.get('access_token', '')}"})
        if userinfo.get("sub") != claims.get("sub"):
            raise EidError("claims", "userinfo is about another subject")  # OIDC Core §5.3.2
        claims = {**userinfo, **claims}
    return assertion_from_claims(provider, claims)


def verify_id_token(provider: Provider, metadata: dict, token: dict, *, nonce: str) -> dict:
    """The ID token's claims, once its signature (provider's JWKS), issuer, audience, expiry and nonce all hold."""
    raw = token.get("id_token")
    if not isinstance(raw, str) or not raw:
        raise EidError("id_token", "no ID token in the token response")
    jwks = _get_json(metadata["jwks_uri"])
    algorithms = [alg for alg in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
                  if alg in ALLOWED_ALGORITHMS]
    try:
        keys = KeySet.import_key_set(jwks)
        decoded = jwt.decode(raw, keys, registry=JWSRegistry(algorithms=algorithms or ["RS256"]))
        options = {"iss": {"essential": True, "value": provider.issuer},
                   "aud": {"essential": True, "value": provider.client_id},
                   "nonce": {"essential": True}}
        claims = CodeIDToken(decoded.claims, decoded.header, options,
                             {"nonce": nonce, "client_id": provider.client_id,
                              "access_token": token.get("access_token")})
        claims.validate(leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise EidError("id_token", f"{type(exc).__name__}: {exc}"[:300]) from None
    return dict(claims)


def assertion_from_claims(provider: Provider, claims: dict) -> Assertion:
    """The identity claims, checked for shape (not for truth: the registry match does that)."""
    number = claims.get(provider.claim_personal_id)
    name = claims.get(provider.claim_full_name)
    born = claims.get(provider.claim_birthdate)
    if not all(isinstance(value, str) and value.strip() for value in (number, name, born)):
        raise EidError("claims", "personal ID number, full name or date of birth missing")
    try:
        date_of_birth = date.fromisoformat(born.strip())  # OIDC "birthdate": YYYY-MM-DD
    except ValueError:
        raise EidError("claims", "date of birth is not YYYY-MM-DD") from None
    return Assertion(subject=str(claims.get("sub", "")), personal_id_number=number.strip(), full_name=name,
                     date_of_birth=date_of_birth)
