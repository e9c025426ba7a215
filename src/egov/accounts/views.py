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
from django.core.exceptions import PermissionDenied
from django.views.decorators.debug import sensitive_post_parameters

from egov.kernel.paging import row_id
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
    if row_id(raw_after) is None:
        return denied(request, _("The page link is not valid. Go back to the first page."), status=400)
    officers, next_after = queries.officers_of_agency(agency, after_id=row_id(raw_after))
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


# ---------------------------------------------------------------------------------------------------------------
# Registration, identity verification, contact details, sessions, history


def assurance_required(level: int):
    """Anonymous → sign-in; an account below ``level`` → 403 saying how to reach it (with the link to do so)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            try:
                services.require_assurance(request.user, level)
            except services.AssuranceTooLow as too_low:
                return render(request, "accounts/denied.html",
                              {"reason": too_low.reason, "verify_url": reverse("accounts:verify_identity")},
                              status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _form_status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@sensitive_post_parameters("password1", "password2")
@never_cache
def register(request):
    """Đăng ký: a new citizen account at level 1, signed in straight away."""
    from django.contrib.auth import login

    from egov.accounts.forms import RegisterForm

    if request.user.is_authenticated:
        return redirect("accounts:me")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.register_citizen(username=form.cleaned_data["username"],
                                              email=form.cleaned_data["email"],
                                              password=form.cleaned_data["password1"])
        except services.RegistrationRefused as refused:
            for field, messages in refused.errors.items():
                for message in messages:
                    form.add_error(field or None, message)
        else:
            login(request, user, backend="egov.accounts.backends.AccountBackend")
            from django.contrib import messages as flash

            flash.success(request, _("Your account is open, at level 1. Verify your identity to use services "
                                     "that need level 2."))
            return redirect("accounts:me")
    return render(request, "accounts/register.html", {"form": form}, status=_form_status(form))


@login_required
def me(request):
    """Tài khoản của tôi: level, contact details and links to what the owner can do with the account."""
    return render(request, "accounts/me.html", {"account": request.user})


@never_cache
@login_required
def verify_identity(request):
    """Step 1: the card's details; a code goes to the contact registered in the population registry."""
    from egov.accounts.forms import IdentityForm

    if request.user.assurance_level >= 2:
        return redirect("accounts:me")
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row = services.start_identity_check(request.user, personal_id_number=data["personal_id_number"],
                                                full_name=data["full_name"], date_of_birth=data["date_of_birth"],
                                                channel=data["channel"])
        except (services.AssuranceRefused, services.CodeRefused) as refused:
            form.add_error("personal_id_number" if refused.rule == "personal_id" else None, refused.reason)
        else:
            return redirect("accounts:verify_identity_code", code_uid=row.uid)
    return render(request, "accounts/verify_identity.html", {"form": form}, status=_form_status(form))


def _code_step(request, code_uid, purpose: str, confirm, success_message, template: str):
    from egov.accounts.forms import CodeForm
    from egov.accounts.models import OneTimeCode

    row = OneTimeCode.objects.filter(uid=code_uid, user=request.user, purpose=purpose).first()
    if row is None:
        return denied(request, _("This code request is not yours or no longer exists. Ask for a new code."), 404)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirm(request.user, row.uid, form.cleaned_data["code"])
        except (services.CodeRefused, services.AssuranceRefused) as refused:
            form.add_error("code", refused.reason)
        else:
            from django.contrib import messages as flash

            flash.success(request, success_message)
            return redirect("accounts:me")
    return render(request, template, {"form": form, "code_request": row, "code_minutes": services.rules.CODE_MINUTES},
                  status=_form_status(form))


@sensitive_post_parameters("code")
@never_cache
@login_required
def verify_identity_code(request, code_uid):
    """Step 2: the code from the registered phone or email; the account reaches level 2."""
    return _code_step(request, code_uid, "identity", services.confirm_identity_code,
                      _("Your identity is verified: your account is at level 2."), "accounts/verify_code.html")


@never_cache
@officer_required
def desk_verification(request):
    """Xác thực tại quầy: a desk officer raises a citizen's account to level 2 after checking the card."""
    from egov.accounts.forms import DeskVerificationForm

    if "accounts.verify_identity" not in services.rules.rights_of(request.user.role):
        return denied(request, _("Only one-stop desk officers verify identities in person."))
    form = DeskVerificationForm(request.POST or None)
    done = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            done = services.verify_at_desk(request.user, username=data["username"],
                                           personal_id_number=data["personal_id_number"],
                                           document_checked=data["document_checked"])
        except services.AssuranceRefused as refused:
            form.add_error("document_checked" if refused.rule == "document" else
                           "personal_id_number" if refused.rule in ("personal_id", "unknown") else
                           "username" if refused.rule == "account" else None, refused.reason)
        else:
            form = DeskVerificationForm()
    return render(request, "accounts/desk_verification.html", {"form": form, "done": done},
                  status=_form_status(form))


@never_cache
@login_required
def change_contact(request):
    from egov.accounts.forms import ContactChangeForm

    form = ContactChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.start_contact_change(request.user, field=form.cleaned_data["field"],
                                                value=form.cleaned_data["value"])
        except services.CodeRefused as refused:
            form.add_error("value", refused.reason)
        else:
            return redirect("accounts:change_contact_code", code_uid=row.uid)
    return render(request, "accounts/change_contact.html", {"form": form}, status=_form_status(form))


@sensitive_post_parameters("code")
@never_cache
@login_required
def change_contact_code(request, code_uid):
    return _code_step(request, code_uid, "contact", services.confirm_contact_change,
                      _("Your contact details are changed."), "accounts/verify_code.html")


@never_cache
@login_required
def sessions(request):
    """Phiên đăng nhập: every browser signed in to this account, and every agency system entered with it (single
    sign-on); any of them can be signed out from here."""
    current = request.session.session_key
    if request.method == "POST" and "system" in request.POST:
        system = row_id(request.POST.get("system", ""))
        if system is None:
            return denied(request, _("Choose a system to sign out of."), 400)
        try:
            services.revoke_system_access(request.user, system)
        except PermissionDenied as refused:
            return denied(request, str(refused), 404)
        from django.contrib import messages as flash

        flash.success(request, _("You are signed out of that system: it can no longer act with your egov sign-in."))
        return redirect("accounts:sessions")
    if request.method == "POST":
        session = row_id(request.POST.get("session", ""))
        if session is None:
            return denied(request, _("Choose a session to sign out."), 400)
        try:
            services.revoke_session(request.user, session, current_key=current)
        except PermissionDenied as refused:
            return denied(request, str(refused), 404)
        from django.contrib import messages as flash

        flash.success(request, _("That session is signed out."))
        return redirect("accounts:sessions")
    return render(request, "accounts/sessions.html", {"rows": queries.open_sessions(request.user), "current_key": current,
                                                     "systems": queries.connected_systems(request.user)})


@login_required
def history(request):
    """Lịch sử đăng nhập: sign-ins, failed attempts and account changes, newest first, paged by key."""
    raw = request.GET.get("before", "")
    if raw and row_id(raw) is None:
        return denied(request, _("The page link is not valid. Go back to the first page."), 400)
    rows, older = queries.account_history(request.user, before_id=row_id(raw) if raw else None)
    return render(request, "accounts/history.html", {"rows": rows, "older": older, "paged": bool(raw)})
