"""Business accounts (tài khoản doanh nghiệp): which accounts may act for which enterprise, and as what.

Kept apart from ``models.py`` and imported at its end, so the model belongs to the accounts app. A business account is
not a separate login: a person's own account acts for an enterprise through a membership. The legal representative
opens it (level 2, ``business_services.open_business_account``) and authorises staff; a membership is never deleted,
it is revoked (``revoked_at``), so who could act for an enterprise at any time stays answerable."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessMembership(models.Model):
    class Role(models.TextChoices):
        REPRESENTATIVE = "representative", _("Legal representative")
        STAFF = "staff", _("Authorised staff")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="business_memberships",
                             verbose_name=_("account"))
    enterprise = models.ForeignKey("registries.Enterprise", on_delete=models.PROTECT, related_name="memberships",
                                   verbose_name=_("enterprise"))
    role = models.CharField(_("role in the enterprise"), max_length=16, choices=Role.choices)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("granted by"))
    granted_at = models.DateTimeField(_("granted at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("revoked by"))

    class Meta:
        verbose_name = _("business membership")
        verbose_name_plural = _("business memberships")
        ordering = ["enterprise_id", "role", "granted_at"]
        constraints = [
            # One current membership per account and enterprise; revoked ones stay as history.
            models.UniqueConstraint(fields=["user", "enterprise"], condition=models.Q(revoked_at__isnull=True),
                                    name="accounts_one_current_membership"),
        ]
        indexes = [models.Index(fields=["enterprise", "revoked_at"], name="accounts_member_ent_current")]

    def __str__(self) -> str:
        return f"{self.user} · {self.enterprise} · {self.role}"

    @property
    def is_current(self) -> bool:
        return self.revoked_at is None
