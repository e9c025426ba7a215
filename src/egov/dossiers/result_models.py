"""Issued results: one row per signed result document, found by its result code (mã kết quả) printed on the page."""
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["IssuedResult"]


class IssuedResult(models.Model):
    """A result the platform signed and issued. Holds what the public verification may show (agency, procedure,
    date, signer) and the digest of the exact file, never the applicant's identity."""

    code = models.CharField(_("result code"), max_length=16, unique=True)
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="issued_results")
    attachment = models.OneToOneField("dossiers.Attachment", on_delete=models.PROTECT, related_name="issued_result")
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, related_name="+", db_index=False)
    issued_at = models.DateTimeField(_("issued at"))
    sha256 = models.CharField(_("SHA-256 of the signed file"), max_length=64)
    certificate_fingerprint = models.CharField(_("signing certificate (SHA-256)"), max_length=64)
    signer_name = models.CharField(_("signer"), max_length=200)
    replaced_at = models.DateTimeField(_("replaced at"), null=True, blank=True)

    class Meta:
        verbose_name = _("issued result")
        verbose_name_plural = _("issued results")
        indexes = [models.Index(fields=["agency", "-issued_at"], name="dossiers_results_agency")]

    def __str__(self) -> str:
        return self.code
