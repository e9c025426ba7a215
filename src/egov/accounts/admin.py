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
