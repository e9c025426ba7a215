"""Admin for the procedure catalogue: procedures with their versions inline. A version that dossiers use is shown
read-only (a dossier keeps the version it was submitted under: a change is a new version). Whole catalogues are
loaded with `egov catalogue import`, which validates the BPMN and the e-form; the admin is for looking and small
corrections of versions nobody uses yet."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from egov.procedures.models import Procedure, ProcedureVersion

VERSION_FIELDS = ["version", "effective_from", "name", "sector", "level", "agencies", "legal_basis", "duration_days",
                  "same_day", "steps", "fees", "components", "form_schema", "ui_schema", "online_level",
                  "min_assurance_level", "auto_receive", "result_type", "result_template", "registry_effect", "bpmn"]


def _in_use(version) -> bool:
    return version is not None and version.pk is not None and version.dossiers.exists()


class ProcedureVersionInline(admin.TabularInline):
    """The versions at a glance; each opens in its own page (editable there only while no dossier uses it)."""
    model = ProcedureVersion
    extra = 0
    fields = readonly_fields = ["version", "effective_from", "level", "duration_days", "online_level"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # new versions come from a catalogue file, validated as a whole


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "sector", "version_count"]
    list_filter = ["sector"]
    search_fields = ["code", "name"]
    inlines = [ProcedureVersionInline]

    @admin.display(description=_("versions"))
    def version_count(self, obj):
        return obj.versions.count()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(admin.ModelAdmin):
    list_display = ["procedure", "version", "effective_from", "level", "duration_days", "online_level"]
    list_filter = ["level", "online_level", "effective_from"]
    list_select_related = ["procedure"]
    search_fields = ["procedure__code", "name"]
    fields = ["procedure", *VERSION_FIELDS]
    filter_horizontal = ["agencies"]

    def get_readonly_fields(self, request, obj=None):
        if _in_use(obj):
            return ["procedure", *VERSION_FIELDS]
        return ["procedure", "version"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
