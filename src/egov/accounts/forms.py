"""Forms for signing in, the TOTP step and password reset. Forms parse input; the decisions are in services."""
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from egov.accounts import services


class SignInForm(AuthenticationForm):
    """Django's sign-in form, with the throttle (held in the database) in front of the password check."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.sign_in(self.request, username, password)
            except services.LoginThrottled as exc:
                raise ValidationError(
                    _("Too many failed sign-in attempts for this account or from this network. "
                      "Try again after %(time)s."),
                    code="throttled",
                    params={"time": timezone.localtime(exc.retry_at).strftime("%H:%M:%S %d/%m/%Y")},
                ) from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class TOTPForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"), max_length=10, strip=True,
        help_text=_("Open your authenticator app and enter the code it shows for egov."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9 ]*", "autofocus": True}),
    )


class EgovPasswordResetForm(PasswordResetForm):
    def save(self, *args, **kwargs):
        users = list(self.get_users(self.cleaned_data["email"]))
        services.password_reset_requested(users)
        return super().save(*args, **kwargs)


class EgovSetPasswordForm(SetPasswordForm):
    def save(self, commit=True):
        return services.complete_password_reset(self.user, self.cleaned_data["new_password1"])
