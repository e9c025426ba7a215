"""Base registries: administrative units (đơn vị hành chính) and agencies (cơ quan) with organisation codes."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class AdministrativeUnit(models.Model):
    """Đơn vị hành chính. ``generation`` separates the post-2025 two-level units from the legacy three-level ones,
    whose codes overlap (province ``01`` exists in both)."""

    class Generation(models.TextChoices):
        CURRENT = "2025", _("From 1 July 2025 (two levels)")
        LEGACY = "legacy", _("Before 1 July 2025 (three levels)")

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        DISTRICT = "district", _("District")
        COMMUNE = "commune", _("Commune")

    generation = models.CharField(_("generation"), max_length=8, choices=Generation.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    code = models.CharField(_("code"), max_length=5)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=40, blank=True, help_text=_("e.g. xã, phường, đặc khu, tỉnh"))
    folded_name = models.CharField(max_length=120, db_index=True, editable=False)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        constraints = [models.UniqueConstraint(fields=["generation", "code"], name="unique_unit_code_per_generation")]
        indexes = [models.Index(fields=["generation", "level", "folded_name"])]

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    """Cơ quan, đơn vị: identified by its organisation code (mã định danh, Decision 20/2020, ``DDD.CC.BB.XNN``)."""

    code = models.CharField(_("organisation code"), max_length=13, unique=True)
    name = models.CharField(_("name"), max_length=255)
    name_en = models.CharField(_("name in English"), max_length=255, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent agency"))
    administrative_unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, null=True, blank=True,
                                            related_name="agencies", verbose_name=_("administrative unit served"))
    morning_opens = models.TimeField(_("morning opens"), default="07:30")
    morning_closes = models.TimeField(_("morning closes"), default="11:30")
    afternoon_opens = models.TimeField(_("afternoon opens"), default="13:00")
    afternoon_closes = models.TimeField(_("afternoon closes"), default="17:00")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
