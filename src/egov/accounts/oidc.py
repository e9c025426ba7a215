"""egov as OpenID Connect provider for agency systems (django-oauth-toolkit): claims by scope, and what each token
issuance leaves in the ledger.

Each OAuth application belongs to a client system (``egov.exchange.models.OidcApplication``), registered by the
platform administrator. Claims, by the scope the person consented to on egov's consent screen:

* ``openid``: ``sub`` (a random UUID per account, see ``SubjectIdentifier``), ``acr`` and ``assurance_level``;
* ``profile``: ``name``, ``family_name``, ``given_name`` (Vietnamese order: family name first);
* ``email``: ``email``; ``phone``: ``phone_number``;
* ``personal_id``: ``personal_id_number``, from the person's record in the population registry, and only for an
  account linked to it. Reading it is a read of personal data: each release (in an ID token or from userinfo) is a
  ``person.read`` event naming the client system, which the person sees in their data-access log.

Claims are computed lazily (DOT calls a claim's function only when its scope was granted), so the personal ID is
never decrypted, and never logged as read, for a token without its scope.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from egov.accounts.demo_client import DEMO_CLIENT_ID
from egov.kernel import ledger

PERSONAL_ID_SCOPE = "personal_id"
# Shown to the person in their data-access log as the reason their number was read.
# Kept in English in the ledger, shown in the reader's language.
SIGN_IN_PURPOSE = gettext_noop("Sign-in with egov (OpenID Connect), consented by the person")
ACR_BY_LEVEL = {1: "urn:egov:loa:1", 2: "urn:egov:loa:2"}
USED_CODES_KEPT = timedelta(days=1)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def link_of(application):
    """The ``OidcApplication`` (with its client system and agency) of a DOT application, or None."""
    from egov.exchange.models import OidcApplication

    if application is None:
        return None
    return OidcApplication.objects.select_related("client__agency").filter(application_id=application.pk).first()


def client_caller(application):
    """The client system behind an application, as the ``Caller`` named in ledger events; None when unlinked."""
    from egov.exchange.services import caller_for_client

    link = link_of(application)
    return caller_for_client(link.client) if link is not None else None


def subject_of(user) -> str:
    from egov.exchange.models import SubjectIdentifier

    subject, _created = SubjectIdentifier.objects.get_or_create(user=user)
    return str(subject.sub)


def release_personal_id(user, application) -> str | None:
    """The person's identification number for a token or userinfo answer, logged as a read by the client system."""
    if not user.person_id:
        return None
    from egov.registries import rules
    from egov.registries.services import reader_facts

    caller = client_caller(application)
    if caller is None:
        return None
    person = user.person
    number = person.personal().personal_id_number
    ledger.append("person.read", partition=caller.partition, actor=caller.actor, subject=person,
                  payload={"registry": rules.POPULATION_REGISTRY, "purpose": SIGN_IN_PURPOSE, "via": "oidc",
                           **reader_facts(caller)})
    return number


class EgovOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "acr": "openid",
        "assurance_level": "openid",
        "personal_id_number": PERSONAL_ID_SCOPE,
    }

    def get_additional_claims(self):
        """Request-agnostic form (one argument): the values are functions, called only for granted scopes. ``sub``
        here replaces DOT's default, the database id in clear."""
        return {
            "sub": lambda request: subject_of(request.user),
            "name": lambda request: " ".join(p for p in (request.user.last_name, request.user.first_name) if p),
            "family_name": lambda request: request.user.last_name,
            "given_name": lambda request: request.user.first_name,
            "email": lambda request: request.user.email,
            "phone_number": lambda request: request.user.phone,
            "acr": lambda request: ACR_BY_LEVEL.get(request.user.assurance_level, "urn:egov:loa:1"),
            "assurance_level": lambda request: request.user.assurance_level,
            "personal_id_number": lambda request: release_personal_id(request.user, request.client),
        }

    def get_oidc_claims(self, token, token_handler, request):
        # Empty values are left out rather than sent as "" or null: "no phone number" is not a phone number.
        return {k: v for k, v in super().get_oidc_claims(token, token_handler, request).items()
                if v not in (None, "")}

    # --- Which applications may be used --------------------------------------------------------------------------

    def _load_application(self, client_id, request):
        """Only applications of an active client system: disabling a client system stops its sign-ins and tokens;
        and never the published demo application in production."""
        application = super()._load_application(client_id, request)
        if application is None:
            return None
        if settings.ENV == "production" and client_id == DEMO_CLIENT_ID:  # its secret is in the README
            request.client = None
            return None
        link = link_of(application)
        if link is None or not link.client.is_active:
            request.client = None
            return None
        return application

    def validate_bearer_token(self, token, scopes, request):
        """A client-credentials token speaks for no person: it gets no userinfo (401), whatever scopes it holds."""
        if not super().validate_bearer_token(token, scopes, request):
            return False
        return request.user is not None or "openid" not in (scopes or [])

    # --- Authorization codes: a replay gets a specific answer and revokes what the code gave -----------------------

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        from oauth2_provider.models import get_access_token_model, get_grant_model, revoke_access_token

        from egov.exchange.models import UsedAuthorizationCode

        used = UsedAuthorizationCode.objects.filter(code_digest=_digest(code), application=client).first()
        if used is not None:
            with transaction.atomic():
                revoked = 0
                if used.access_token_checksum:
                    for token in get_access_token_model().objects.filter(token_checksum=used.access_token_checksum):
                        revoke_access_token(token)
                        revoked += 1
                link = link_of(client)
                ledger.append("oidc.code_replayed", partition=link.client.agency.code if link else "platform",
                              subject=link.client if link else None,
                              payload={"client_id": client.client_id, "tokens_revoked": revoked})
            raise errors.InvalidGrantError(
                description=_("This authorization code has already been used. A code is valid once: the tokens "
                              "issued for it have been revoked. Start the sign-in again."), request=request)
        if get_grant_model().objects.filter(code=code, application=client).exists():
            raise errors.InvalidGrantError(
                description=_("This authorization code has expired (codes are valid for 60 seconds). Start the "
                              "sign-in again."), request=request)
        raise errors.InvalidGrantError(
            description=_("This authorization code is unknown: it was not issued by egov to this client."),
            request=request)

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        from egov.exchange.models import UsedAuthorizationCode

        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        now = timezone.now()
        UsedAuthorizationCode.objects.filter(used_at__lt=now - USED_CODES_KEPT).delete()
        UsedAuthorizationCode.objects.create(code_digest=_digest(code), application=request.client, used_at=now,
                                             access_token_checksum=getattr(request, "egov_token_checksum", ""))

    # --- Token issuance in the ledger ---------------------------------------------------------------------------

    def save_bearer_token(self, token, request, *args, **kwargs):
        super().save_bearer_token(token, request, *args, **kwargs)
        request.egov_token_checksum = _digest(token["access_token"])
        link = link_of(request.client)
        user = request.user if getattr(request.user, "pk", None) else None
        ledger.append("oidc.token_issued", partition=link.client.agency.code if link else "platform",
                      actor=user if user is not None else (link.client if link else None),
                      subject=link.client if link else None,
                      payload={"client_id": request.client.client_id, "grant_type": request.grant_type,
                               "scopes": sorted(request.scopes or []), "for_person": user is not None})
