from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from egov.accounts.models import LoginFailure, User


@admin.register(User)
class EgovUserAdmin(UserAdmin):
    list_display = ("username", "role", "agency", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ()
    raw_id_fields = ("agency",)
    fieldsets = UserAdmin.fieldsets + ((_("Role and agency"), {"fields": ("role", "agency", "phone")}),)
    add_fieldsets = UserAdmin.add_fieldsets + ((_("Role and agency"), {"fields": ("role", "agency")}),)


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ("kind", "key", "at")
    list_filter = ("kind",)
    readonly_fields = ("kind", "key", "at")


from egov.accounts.business_models import BusinessMembership  # noqa: E402  (business accounts, own module)


@admin.register(BusinessMembership)
class BusinessMembershipAdmin(admin.ModelAdmin):
    """Who acts for which enterprise, read-only: memberships change only through ``business_services`` (each a
    ledger event), by the enterprise's legal representative."""

    list_display = ("enterprise", "user", "role", "granted_at", "revoked_at")
    list_filter = ("role",)
    list_select_related = ("enterprise", "user")
    search_fields = ("enterprise__code", "enterprise__name", "user__username")
    raw_id_fields = ("user", "enterprise", "granted_by", "revoked_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
