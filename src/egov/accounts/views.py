"""Sign-in, TOTP second factor, password reset and the agency officer list. Views stay thin: parse, call a
service, render."""
from functools import wraps
from urllib.parse import urlencode

import django_otp
import segno
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from egov.accounts import queries, services
from egov.accounts.forms import EgovPasswordResetForm, EgovSetPasswordForm, SignInForm, TOTPForm
from egov.accounts.rules import Action
from egov.registries.models import Agency


def _next_url(request) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL) if ":" in settings.LOGIN_REDIRECT_URL else settings.LOGIN_REDIRECT_URL


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


def second_factor_url(user, next_url: str) -> str:
    """Where an officer goes after the password: the code step, or enrolment when no device is confirmed yet."""
    if services.confirmed_totp_device(user) is None:
        return _with_next("accounts:totp_enrol", next_url)
    return _with_next("accounts:totp", next_url)


def denied(request, reason, status: int = 403):
    return render(request, "accounts/denied.html", {"reason": reason}, status=status)


def officer_required(view):
    """Anonymous → sign-in page; not an officer → 403; officer who has not passed the TOTP step → the TOTP step."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_officer:
            return denied(request, _("This page is for agency officers only."))
        if not user.is_verified():
            return redirect(second_factor_url(user, request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapper


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = False

    def form_valid(self, form):
        super().form_valid(form)  # logs the user in
        user = form.get_user()
        next_url = self.get_success_url()
        if user.needs_second_factor:
            return HttpResponseRedirect(second_factor_url(user, next_url))
        return HttpResponseRedirect(next_url)


@sensitive_post_parameters("code")
@never_cache
@login_required
def totp_verify(request):
    """Bước xác thực hai lớp: the officer enters the current code from the authenticator app."""
    user, next_url = request.user, _next_url(request)
    if user.is_verified() or not user.needs_second_factor:
        return redirect(next_url)
    if services.confirmed_totp_device(user) is None:
        return redirect(_with_next("accounts:totp_enrol", next_url))
    form = TOTPForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.verify_totp(user, form.cleaned_data["code"])
        except services.TOTPRefused as exc:
            form.add_error("code", exc.reason)
        else:
            django_otp.login(request, device)
            return redirect(next_url)
    status = 400 if form.errors else 200
    return render(request, "accounts/totp_verify.html", {"form": form, "next": next_url}, status=status)


@sensitive_post_parameters("code")
@never_cache
@login_required
def totp_enrol(request):
    """Đăng ký ứng dụng xác thực: show the secret and its QR code, then confirm with the first code."""
    user, next_url = request.user, _next_url(request)
    if user.is_verified():
        return redirect(next_url)
    try:
        device = services.start_totp_enrolment(user)
    except services.TOTPRefused:
        # Already enrolled: a stolen password must not be enough to attach a new authenticator.
        return redirect(_with_next("accounts:totp", next_url))
    form = TOTPForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.confirm_totp_enrolment(user, device.pk, form.cleaned_data["code"])
        except services.TOTPRefused as exc:
            form.add_error("code", exc.reason)
        else:
            django_otp.login(request, device)
            return redirect(next_url)
    uri = device.config_url
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title=str(_("QR code for your authenticator app")),
                                                      omitsize=False)
    context = {"form": form, "next": next_url, "secret": services.totp_secret_base32(device), "otpauth_uri": uri,
               "qr_svg": qr_svg}
    return render(request, "accounts/totp_enrol.html", context, status=400 if form.errors else 200)


@officer_required
def agency_officers(request, code: str):
    """Danh sách cán bộ của cơ quan: for the agency's admins (and admins of agencies above it) and platform admins."""
    agency = get_object_or_404(Agency, code=code)
    try:
        services.require_same_agency(request.user, agency, action=Action.MANAGE_OFFICERS)
    except services.AgencyPermissionDenied as exc:
        return denied(request, exc.reason)
    raw_after = request.GET.get("after", "0")
    if not raw_after.isdigit():
        return denied(request, _("The page link is not valid. Go back to the first page."), status=400)
    officers, next_after = queries.officers_of_agency(agency, after_id=int(raw_after))
    return render(request, "accounts/agency_officers.html",
                  {"agency": agency, "officers": officers, "next_after": next_after, "is_first_page": raw_after == "0"})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = EgovPasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = EgovSetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
