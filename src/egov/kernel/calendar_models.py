"""Working-day calendar table (lịch ngày nghỉ, ngày làm bù): one row per year, one row per special day.

An administrator edits it from the government's yearly announcement; ``egov.kernel.calendar.seed_calendar`` fills it from
the ``holidays`` package. The rules that read it live in ``egov.kernel.calendar_rules``.
"""
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CalendarDay", "CalendarYear"]


class CalendarYear(models.Model):
    """A year of the calendar. A year without a row falls back to the statutory holidays (and a warning is logged)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    announced = models.BooleanField(
        _("announced"), default=False,
        help_text=_("Tick once the government's schedule for this year (days off, working Saturdays) has been entered."),
    )
    source = models.CharField(
        _("source"), max_length=255, blank=True,
        help_text=_("Reference of the decision or announcement the days come from."),
    )
    seeded_from = models.CharField(
        _("seeded from"), max_length=60, blank=True, editable=False,
        help_text=_("Package version the statutory holidays were first filled from; empty when entered by hand."),
    )

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ("-year",)

    def __str__(self) -> str:
        return str(self.year)

    def clean(self):
        if self.year is not None and not 1990 <= self.year <= 2200:
            raise ValidationError({"year": _("Enter a year between 1990 and 2200.")})


class CalendarDay(models.Model):
    """A day that differs from the ordinary week (Monday–Friday working, Saturday and Sunday rest)."""

    class Kind(models.TextChoices):
        PUBLIC_HOLIDAY = "holiday", _("Public holiday")
        COMPENSATORY_DAY_OFF = "compensatory_off", _("Compensatory day off")
        EXTRA_DAY_OFF = "extra_off", _("Extra day off")
        COMPENSATORY_WORKING_DAY = "working", _("Compensatory working day")

    calendar_year = models.ForeignKey(
        CalendarYear, on_delete=models.CASCADE, related_name="days", verbose_name=_("calendar year"),
    )
    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices,
        help_text=_(
            "Public holiday: Labour Code Art. 112 (on a Saturday or Sunday it is compensated on the next working day "
            "unless a compensatory day off is entered). Compensatory day off: Art. 111, on a weekday. Extra day off: "
            "further day off announced by the government. Compensatory working day: a Saturday or Sunday declared a "
            "working day."
        ),
    )
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ("date",)

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}"

    def clean(self):
        errors = {}
        day = self.date
        if isinstance(day, dt.date):
            try:  # a new year's inline rows hold the unsaved year object, without an id yet
                year = self.calendar_year.year
            except CalendarYear.DoesNotExist:
                year = None
            if year is not None and day.year != year:
                errors["date"] = _("%(date)s is not in %(year)s: enter it in the calendar of its own year.") % {
                    "date": day.strftime("%d/%m/%Y"), "year": year,
                }
            weekend = day.weekday() >= 5
            if self.kind == self.Kind.COMPENSATORY_WORKING_DAY and not weekend:
                errors["kind"] = _(
                    "%(date)s is a weekday, which is a working day already: a compensatory working day must be a "
                    "Saturday or a Sunday."
                ) % {"date": day.strftime("%d/%m/%Y")}
            if self.kind == self.Kind.COMPENSATORY_DAY_OFF and weekend:
                errors["kind"] = _(
                    "%(date)s is a Saturday or Sunday, which is a rest day already: a compensatory day off must be a "
                    "weekday."
                ) % {"date": day.strftime("%d/%m/%Y")}
        if errors:
            raise ValidationError(errors)
