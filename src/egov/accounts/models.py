"""Accounts (tài khoản) and roles. The custom user model exists from the first migration so it never has to move."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    BUSINESS_REPRESENTATIVE = "business_representative", _("Business representative")
    DESK_OFFICER = "desk_officer", _("One-stop desk officer")
    SPECIALIST = "specialist", _("Specialist")
    HEAD_OF_UNIT = "head_of_unit", _("Head of unit")
    AGENCY_LEADER = "agency_leader", _("Agency leader")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.CITIZEN)
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="officers", verbose_name=_("agency"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
