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


class RegisterForm(forms.Form):
    """Đăng ký tài khoản: a citizen opens an account (level 1) with a username, an email and a password."""
    username = forms.CharField(label=_("Username"), max_length=150,
                               help_text=_("Letters, digits and @ . + - _ only; you sign in with it."),
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}))
    email = forms.EmailField(label=_("Email address"), max_length=254,
                             help_text=_("For password resets. It is not used to verify your identity."),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1 = forms.CharField(label=_("Password"), strip=False,
                                help_text=_("At least 10 characters; not only digits, not a common password."),
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("Password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_username(self):
        from django.contrib.auth.validators import UnicodeUsernameValidator

        value = self.cleaned_data["username"].strip()
        UnicodeUsernameValidator()(value)
        return value

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ: type the same password twice."))
        return data


class IdentityForm(forms.Form):
    """Xác thực danh tính: the details printed on the citizen identity card, matched to the population registry."""
    personal_id_number = forms.CharField(label=_("Personal identification number"), max_length=12, min_length=12,
                                         help_text=_("The 12 digits on your citizen identity card."),
                                         widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                                       "pattern": "[0-9]{12}"}))
    full_name = forms.CharField(label=_("Full name"), max_length=150,
                                help_text=_("As on the card, with its accents."),
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    date_of_birth = forms.DateField(label=_("Date of birth"), help_text=_("Day/month/year, e.g. 21/03/1990."),
                                    input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"],
                                    widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"},
                                                           format="%Y-%m-%d"))
    channel = forms.ChoiceField(label=_("Send the code to"), initial="sms", widget=forms.RadioSelect,
                                choices=[("sms", _("The phone number registered in the population registry")),
                                         ("email", _("The email address registered in the population registry"))])


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=12,
                           help_text=_("The 6 digits in the message we sent."),
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))


class DeskVerificationForm(forms.Form):
    username = forms.CharField(label=_("Citizen's username"), max_length=150)
    personal_id_number = forms.CharField(label=_("Personal identification number"), max_length=12, min_length=12,
                                         widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    document_checked = forms.BooleanField(label=_("I checked the citizen's identity card in person, and the photo "
                                                  "matches the person in front of me."), required=False)


class ContactChangeForm(forms.Form):
    field = forms.ChoiceField(label=_("What to change"), widget=forms.RadioSelect,
                              choices=[("email", _("Email address")), ("phone", _("Phone number"))])
    value = forms.CharField(label=_("New email address or phone number"), max_length=254,
                            help_text=_("We send a code there; the change takes effect once you enter it."))
