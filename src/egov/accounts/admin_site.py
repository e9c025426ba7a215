"""The Django admin behind the same sign-in as the rest of egov: password (throttled), then TOTP.

Wired in settings by replacing ``"django.contrib.admin"`` with ``"egov.accounts.admin_site.EgovAdminConfig"`` in
INSTALLED_APPS (Django's documented way to change the default admin site), so every ``admin.site.register`` and
``@admin.register`` of every component lands on this site."""
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class EgovAdminSite(admin.AdminSite):
    site_header = _("egov administration")
    site_title = _("egov administration")

    def has_permission(self, request):
        # Like django_otp's OTPAdminSite: a staff user who has not passed the TOTP step is not staff here.
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        """The admin has no sign-in form of its own: it would bypass the throttle and the TOTP step."""
        # Imported here: this module is loaded while the app registry is still being populated.
        from django.contrib.auth.views import redirect_to_login

        from egov.accounts.views import second_factor_url

        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url)
        if user.is_active and user.is_staff and not user.is_verified():
            return redirect(second_factor_url(user, next_url))
        return render(request, "accounts/denied.html",
                      {"reason": _("Your account has no access to the administration.")}, status=403)


class EgovAdminConfig(AdminConfig):
    default_site = "egov.accounts.admin_site.EgovAdminSite"
