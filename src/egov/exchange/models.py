"""Data sharing (nền tảng chia sẻ dữ liệu): client systems of other agencies and the services each may call.

X-Road style: a client system is a subsystem of a member (an agency), named ``VN:GOV:{organisation code}:{subsystem}``;
rights are granted per client system and per service (``population.verify``, ``registry.ho-kinh-doanh.read`` …).
"""
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
