"""Base registries: administrative units (đơn vị hành chính) and agencies (cơ quan) with organisation codes."""
from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.kernel.text import fold
from egov.registries import rules


class AdministrativeUnit(models.Model):
    """Đơn vị hành chính. ``generation`` separates the post-2025 two-level units from the legacy three-level ones,
    whose codes overlap (province ``01`` exists in both).

    Reference data loaded from the pinned ``vietnamadminunits`` package by ``services.load_administrative_units``;
    not edited by hand (the admin is read-only).
    """

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
    name = models.CharField(_("name"), max_length=120, help_text=_("Official name with its kind, e.g. Phường Hồng Hà"))
    short_name = models.CharField(_("short name"), max_length=120, blank=True, help_text=_("e.g. Hồng Hà"))
    kind = models.CharField(_("kind"), max_length=40, blank=True, help_text=_("e.g. xã, phường, đặc khu, tỉnh"))
    # fold(name): lower case, no diacritics, đ -> d. Kept in a column so that search is one indexed query.
    folded_name = models.CharField(max_length=120, db_index=True, editable=False)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent unit"))

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["generation", "code"]
        constraints = [models.UniqueConstraint(fields=["generation", "code"], name="unique_unit_code_per_generation")]
        indexes = [models.Index(fields=["generation", "level", "folded_name"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.folded_name = fold(self.name)
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        """The name followed by its parents', e.g. "Phường Hồng Hà, Thành phố Hà Nội"."""
        names, unit = [], self
        while unit is not None:
            names.append(unit.name)
            unit = unit.parent
        return ", ".join(names)


class LegacyUnitMapping(models.Model):
    """Old → new: where a pre-2025 unit went on 1 July 2025 (Decision 19/2025 and the merger resolutions).

    ``legacy_unit`` is a legacy commune, or one of the five legacy island districts that had no communes (Bạch Long Vĩ,
    Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo), or a legacy province (then ``new_commune`` is empty). A commune that was split
    has several rows, one of them ``is_default`` (the package's choice when nothing more precise is known).
    """

    legacy_unit = models.ForeignKey(AdministrativeUnit, on_delete=models.CASCADE, related_name="successors",
                                    verbose_name=_("legacy unit"))
    new_commune = models.ForeignKey(AdministrativeUnit, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="predecessors", verbose_name=_("new commune"))
    new_province = models.ForeignKey(AdministrativeUnit, on_delete=models.CASCADE, related_name="province_predecessors",
                                     verbose_name=_("new province"))
    is_default = models.BooleanField(_("default successor"), default=True)

    class Meta:
        verbose_name = _("legacy unit mapping")
        verbose_name_plural = _("legacy unit mappings")
        constraints = [models.UniqueConstraint(fields=["legacy_unit", "new_commune", "new_province"],
                                               name="unique_legacy_mapping")]

    def __str__(self) -> str:
        return f"{self.legacy_unit} → {self.new_commune or self.new_province}"


class Agency(models.Model):
    """Cơ quan, đơn vị: identified by its organisation code (mã định danh, Decision 20/2020, ``DDD.CC.BB.XNN``)."""

    code = models.CharField(_("organisation code"), max_length=13, unique=True,
                            help_text=_("DDD.CC.BB.XNN, e.g. 000.00.00.H29 (a province) or 000.00.18.G12 "
                                        "(a level-2 unit of a ministry)"))
    name = models.CharField(_("name"), max_length=255)
    name_en = models.CharField(_("name in English"), max_length=255, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent agency"))
    administrative_unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, null=True, blank=True,
                                            related_name="agencies", verbose_name=_("administrative unit served"),
                                            limit_choices_to={"generation": AdministrativeUnit.Generation.CURRENT})
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

    @property
    def level(self) -> int:
        return rules.parse_code(self.code).level

    def clean_fields(self, exclude=None):
        # Normalise before the field validators run (max_length counts the spaces a user pasted): a valid code has
        # only digits, dots and an upper-case G or H.
        if isinstance(self.code, str):
            self.code = self.code.strip().upper()
        super().clean_fields(exclude=exclude)

    def clean(self):
        """Field-level messages for the admin and any ModelForm: the code's format, that it extends the parent's,
        and the order of office hours."""
        errors = {}
        try:
            rules.parse_code(self.code)
        except rules.InvalidCode as exc:
            errors["code"] = exc.message
        else:
            if self.parent_id is not None:
                if self.pk is not None and self.parent_id == self.pk:
                    errors["parent"] = _("An agency cannot be its own parent.")
                else:
                    try:
                        rules.check_child_code(self.code, self.parent.code)
                    except rules.InvalidCode as exc:
                        errors["code"] = exc.message
        if self.administrative_unit_id is not None and self.administrative_unit.generation != \
                AdministrativeUnit.Generation.CURRENT:
            errors["administrative_unit"] = _("Choose a current administrative unit (from 1 July 2025), not a "
                                              "legacy one.")
        hours = [time.fromisoformat(h) if isinstance(h, str) else h
                 for h in (self.morning_opens, self.morning_closes, self.afternoon_opens, self.afternoon_closes)]
        if None not in hours:  # a missing time already has its own "required" message from the form
            try:
                rules.check_office_hours(*hours)
            except rules.InvalidOfficeHours as exc:
                errors.setdefault(exc.field, exc.message)
        if errors:
            raise ValidationError(errors)
