"""Admin for the working-day calendar: a year with its special days inline, validated with clear messages.

The same date twice in one submission is caught by the inline formset's own unique check (CalendarDay.date is unique).
"""
from django.contrib import admin

from egov.kernel import ledger
from egov.kernel.calendar_models import CalendarDay, CalendarYear


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    fields = ("date", "kind", "name")
    extra = 1


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "announced", "source", "seeded_from")
    list_filter = ("announced",)
    readonly_fields = ("seeded_from",)
    fields = ("year", "announced", "source", "seeded_from")
    inlines = (CalendarDayInline,)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The admin's change view runs in one transaction: the event commits with the edit or not at all.
        changed = [f.instance.date.isoformat() for fs in formsets for f in fs.forms if f.has_changed() and f.instance.date]
        ledger.append(
            "calendar.year_changed" if change else "calendar.year_created",
            partition="platform",
            actor=request.user,
            subject=form.instance,
            payload={"year": form.instance.year, "announced": form.instance.announced, "days_changed": sorted(changed)},
        )
