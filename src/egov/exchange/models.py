"""Data sharing (nền tảng chia sẻ dữ liệu): client systems of other agencies and the services each may call.

X-Road style: a client system is a subsystem of a member (an agency), named ``VN:GOV:{organisation code}:{subsystem}``;
rights are granted per client system and per service (``population.verify``, ``registry.ho-kinh-doanh.read`` …).
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ClientSystem(models.Model):
    """Hệ thống khách: an information system of an agency that calls egov's APIs, registered by the platform admin.

    It authenticates with its API key (only a SHA-256 digest is stored: keys are 256-bit random, so a slow hash buys
    nothing), or arrives through a trusted Information Mediator that names it in ``Information-Mediator-Client``."""

    identifier = models.CharField(_("identifier"), max_length=120, unique=True,
                                  help_text=_("VN:GOV:{organisation code}:{subsystem}, e.g. VN:GOV:000.00.12.H29:hotich"))
    name = models.CharField(_("name"), max_length=255)
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, related_name="client_systems",
                               verbose_name=_("agency"))
    key_digest = models.CharField(_("API key digest"), max_length=64, unique=True, editable=False)
    key_hint = models.CharField(_("API key starts with"), max_length=16, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    verify_limit_per_minute = models.PositiveIntegerField(_("verifications per minute"), default=600)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("client system")
        verbose_name_plural = _("client systems")
        ordering = ["identifier"]

    def __str__(self) -> str:
        return f"{self.name} ({self.identifier})"


class ServiceGrant(models.Model):
    """Quyền: one client system may call one service; for data release, only for the listed purposes."""

    client = models.ForeignKey(ClientSystem, on_delete=models.CASCADE, related_name="grants",
                               verbose_name=_("client system"))
    service = models.CharField(_("service"), max_length=100,
                               help_text=_("population.verify, population.release, registry.CODE.read or "
                                           "registry.CODE.write"))
    purposes = models.JSONField(_("allowed purposes"), default=list, blank=True,
                                help_text=_("For population.release: the purposes it may declare."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("service grant")
        verbose_name_plural = _("service grants")
        constraints = [models.UniqueConstraint(fields=["client", "service"], name="exchange_grant_client_service")]

    def __str__(self) -> str:
        return f"{self.client.identifier} → {self.service}"


class OidcApplication(models.Model):
    """An OAuth 2.0 / OpenID Connect client (django-oauth-toolkit's Application) of a client system.

    DOT gives each application one grant type, so a client system may hold two: a sign-in application (authorization
    code with PKCE: its users sign in with egov) and a system application (client credentials: it calls egov's APIs
    with an access token instead of its API key). Registered only by the platform administrator
    (``services.register_oidc_client``); a disabled client system's applications stop working with it."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign-in", _("Sign-in of its users (OpenID Connect, authorization code with PKCE)")
        SYSTEM = "system", _("System-to-system calls (OAuth 2.0 client credentials)")

    client = models.ForeignKey(ClientSystem, on_delete=models.PROTECT, related_name="oidc_applications",
                               verbose_name=_("client system"))
    application = models.OneToOneField("oauth2_provider.Application", on_delete=models.CASCADE,
                                       related_name="egov_link", verbose_name=_("OAuth application"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("OpenID Connect application")
        verbose_name_plural = _("OpenID Connect applications")

    def __str__(self) -> str:
        return f"{self.client.identifier} ({self.kind})"


class UsedAuthorizationCode(models.Model):
    """An authorization code already exchanged for tokens, kept (as a digest) for a day so that a replay gets a
    specific answer and revokes what the first exchange issued (RFC 6749 §4.1.2), instead of a bare "invalid grant"."""

    code_digest = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey("oauth2_provider.Application", on_delete=models.CASCADE, related_name="+")
    access_token_checksum = models.CharField(max_length=64, blank=True)
    used_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("used authorization code")
        verbose_name_plural = _("used authorization codes")


class SubjectIdentifier(models.Model):
    """The ``sub`` that agency systems receive for a person: a random UUID, stable for the account's lifetime.

    Neither the username (which a person may see changed, and which says something about them) nor the database id
    (which would tell every agency how many accounts exist and invite enumeration). One public value for every
    agency system, so agencies can match the same person when the law lets them; pairwise identifiers can come later
    without changing this table's role."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_subject",
                                verbose_name=_("account"))
    sub = models.UUIDField(_("subject identifier"), unique=True, default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("subject identifier")
        verbose_name_plural = _("subject identifiers")
