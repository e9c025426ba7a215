"""The platform's revocation table (thu hồi chứng thư số): the certificates of signed results that must no longer be
trusted. The certificates and keys themselves live outside the database (``egov.kernel.pki``)."""
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["RevokedCertificate"]


class RevokedCertificate(models.Model):
    """One revoked signing certificate, found by its SHA-256 fingerprint when a signature is verified and listed by
    issuer and serial number in the CRL the platform publishes."""

    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    serial_number = models.CharField(_("serial number (hex)"), max_length=64)
    issuer = models.CharField(_("issuer"), max_length=400)
    subject = models.CharField(_("subject"), max_length=400)
    org_code = models.CharField(_("organisation code"), max_length=40, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("revoked certificate")
        verbose_name_plural = _("revoked certificates")

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial_number})"
