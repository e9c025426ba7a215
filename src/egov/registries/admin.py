"""Admin for reference data: administrative units (read-only) and agencies (edited through the service); digital
registries and persons, shown read-only and never with personal data (persons are sealed; their data is read only
through the logged services)."""
from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from egov.kernel.text import fold
from egov.registries import services
from egov.registries.models import AdministrativeUnit, Agency, Enterprise, LegacyUnitMapping, Person, Registry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Reference data loaded from the pinned package by `egov seed`: viewable and searchable, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "level", "parent", "generation"]
    list_filter = ["generation", "level", "kind"]
    list_per_page = 50
    list_select_related = ["parent"]
    show_full_result_count = False
    # Needed by the agency form's autocomplete; the matching itself is done on the folded name below.
    search_fields = ["folded_name"]
    search_help_text = _("Search by name, with or without diacritics (e.g. “da nang”), or by code.")
    ordering = ["generation", "code"]

    def get_search_results(self, request, queryset, search_term):
        """Fold the query like the stored names, so that "da nang" and "Đà Nẵng" both find Đà Nẵng."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(code=term), False
        for word in fold(term).split():
            queryset = queryset.filter(folded_name__contains=word)
        return queryset, False


@admin.register(LegacyUnitMapping)
class LegacyUnitMappingAdmin(ReadOnlyAdmin):
    list_display = ["legacy_unit", "new_commune", "new_province", "is_default"]
    list_filter = ["is_default"]
    list_per_page = 50
    list_select_related = ["legacy_unit", "legacy_unit__parent", "new_commune", "new_province"]
    show_full_result_count = False
    search_fields = ["legacy_unit__folded_name"]
    search_help_text = _("Search by the legacy unit's name, with or without diacritics, or by its code.")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(legacy_unit__code=term), False
        for word in fold(term).split():
            queryset = queryset.filter(legacy_unit__folded_name__contains=word)
        return queryset, False


class LevelOneFilter(admin.SimpleListFilter):
    """Filter agencies by their level-1 unit (the ministry or province the code ends with)."""

    title = _("ministry or province")
    parameter_name = "level1"

    def lookups(self, request, model_admin):
        tops = Agency.objects.filter(code__startswith="000.00.00.").order_by("code")
        return [(agency.code[-3:], agency.name) for agency in tops]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(code__endswith="." + self.value())
        return queryset


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "administrative_unit", "is_active"]
    list_filter = ["is_active", LevelOneFilter]
    list_select_related = ["parent", "administrative_unit"]
    list_per_page = 50
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent", "administrative_unit"]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_en", "parent", "administrative_unit", "is_active"]}),
        (_("Office hours"), {"fields": [("morning_opens", "morning_closes"), ("afternoon_opens", "afternoon_closes")]}),
        (_("Where citizens go"), {"fields": ["address", "phone"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The code is the agency's identity: children's codes extend it, dossier codes and ledger partitions carry
        # it. It is set once, at creation.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        # Agencies are deactivated, never deleted: dossiers, accounts and ledger partitions refer to them.
        return False

    def save_model(self, request, obj, form, change):
        services.save_agency(obj, actor=request.user)


@admin.register(Registry)
class RegistryAdmin(ReadOnlyAdmin):
    """Registries are defined by agency administrators on their registry pages (``services.define_registry``), which
    check the schema and record the event; here they are only looked at."""

    list_display = ["code", "version", "name", "agency", "kind", "protected", "is_active", "created_at"]
    list_filter = ["kind", "protected", "is_active"]
    list_select_related = ["agency"]
    search_fields = ["code", "name"]
    list_per_page = 50
    fields = ["code", "version", "name", "description", "agency", "kind", "schema", "searchable_fields",
              "person_field", "protected", "is_active", "created_at", "updated_at"]


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows (``SELECT COUNT(*) FROM (… LIMIT CAP)``): a full count of a national population
    takes seconds on every page view, and nobody pages to row 10,001 by hand."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP].count()


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    """Persons by reference and status only. Never the sealed data, never a search on personal fields (a search
    would be a read that nobody logged), never a delete: death is a status."""

    list_display = ["uid", "status", "created_at"]
    list_filter = ["status"]
    list_per_page = 50
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ["-id"]
    fields = ["uid", "status", "version", "key_id", "created_at", "updated_at"]


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    """Enterprises by code, name, status and head office, read-only: registration and its changes are services
    (``register_enterprise``, ``change_legal_representative``, ``change_enterprise_status``), each a ledger event.
    The legal representative is shown as a person reference, never with personal data."""

    list_display = ["code", "name", "status", "head_office_unit", "registered_at"]
    list_filter = ["status"]
    list_select_related = ["head_office_unit"]
    list_per_page = 50
    search_fields = ["code", "name", "short_name", "name_en"]
    ordering = ["code"]
    fields = ["code", "name", "name_en", "short_name", "status", "head_office_address", "head_office_unit",
              "legal_representative", "registered_at", "updated_at"]
