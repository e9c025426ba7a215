"""Admin for client systems (hệ thống khách): the platform administrator registers them and sets their rights.

Both go through ``egov.exchange.services`` (``register_client``, ``set_grants``), called while the form is validated,
so a refusal appears beside the field it is about and nothing typed is lost. The API key is shown once, in the message
after registration; only its digest and first characters are stored, so it can never be shown again.

On a registered client system the administrator also gives it OpenID Connect / OAuth 2.0 applications
(``services.register_oidc_client``): a sign-in application (its users sign in with egov) with its redirect addresses,
or a system application (client credentials). The client id and secret are shown once, like the API key. DOT's own
application admin stays for looking and revoking, but adds nothing: an application without a client system would
belong to no agency.
"""
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from egov.accounts.services import caller_for_user
from egov.exchange import services
from egov.exchange.models import ClientSystem, OidcApplication
from egov.kernel.access import Denied

GRANTS_HELP = _("One service per line, then a colon and the allowed purposes separated by semicolons (purposes matter "
                "for population.release). Services: population.verify, population.release, registry.CODE.read, "
                "registry.CODE.write. For example:<br><code>population.verify</code><br>"
                "<code>population.release: Mở tài khoản ngân hàng; Đăng ký thuê bao di động</code>")


def parse_grants(text: str) -> dict[str, list[str]]:
    """``service: purpose; purpose`` per line → {service: [purposes]}; blank lines and ``#`` comments are skipped."""
    grants: dict[str, list[str]] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        service, _colon, purposes = line.partition(":")
        service = service.strip()
        if not service:
            raise forms.ValidationError(_("Line %(number)d: write the service before the colon."),
                                        params={"number": number}, code="service")
        if service in grants:
            raise forms.ValidationError(_("Line %(number)d: %(service)s is listed twice; put all its purposes on one "
                                          "line."), params={"number": number, "service": service}, code="twice")
        grants[service] = [p.strip() for p in purposes.split(";") if p.strip()]
    return grants


def format_grants(client: ClientSystem) -> str:
    lines = []
    for service, purposes in client.grants.order_by("service").values_list("service", "purposes"):
        lines.append(f"{service}: {'; '.join(purposes)}" if purposes else service)
    return "\n".join(lines)


class GrantsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 6, "cols": 80, "spellcheck": "false"})

    def __init__(self, **kwargs):
        super().__init__(label=_("Rights (services and purposes)"), required=False, help_text=GRANTS_HELP, **kwargs)

    def clean(self, value):
        return parse_grants(super().clean(value))


class ClientSystemAddForm(forms.ModelForm):
    """Register: ``services.register_client`` runs once the fields are valid; its refusals become field errors."""

    grants = GrantsField()
    caller = None  # set per request by the admin
    raw_key = ""

    class Meta:
        model = ClientSystem
        fields = ["agency", "identifier", "name", "verify_limit_per_minute"]

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        data = self.cleaned_data
        try:
            with transaction.atomic():
                client, self.raw_key = services.register_client(
                    caller=self.caller, identifier=data["identifier"], name=data["name"], agency=data["agency"],
                    grants=data["grants"], verify_limit_per_minute=data["verify_limit_per_minute"])
        except services.InvalidClient as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        except Denied as exc:
            self.add_error(None, exc.reason)
        else:
            self.instance = client


def _uri_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ClientSystemChangeForm(forms.ModelForm):
    """Change the rights (``services.set_grants``) and add an OpenID Connect application
    (``services.register_oidc_client``); identity and key never change here."""

    grants = GrantsField()
    oidc_kind = forms.ChoiceField(
        label=_("Add an application"), required=False,
        choices=[("", _("— none —")), *OidcApplication.Kind.choices],
        help_text=_("Sign-in: the system's users sign in with their egov account (OpenID Connect). System: the "
                    "system calls egov's APIs with OAuth 2.0 access tokens (client credentials) instead of its API "
                    "key. The client id and secret are shown once, after saving."))
    oidc_redirect_uris = forms.CharField(
        label=_("Redirect addresses"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "spellcheck": "false"}),
        help_text=_("For a sign-in application: one address per line, https (http only on 127.0.0.1 or localhost), "
                    "where egov sends the person back after signing in."))
    oidc_post_logout_redirect_uris = forms.CharField(
        label=_("Addresses after signing out"), required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80, "spellcheck": "false"}),
        help_text=_("Optional, one per line: where egov may send the person after signing out at the system's "
                    "request."))
    caller = None
    registered_application = None
    raw_secret = ""

    class Meta:
        model = ClientSystem
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["grants"].initial = format_grants(self.instance)

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        self._register_application()
        grants = self.cleaned_data["grants"]
        current = {s: list(p or []) for s, p in self.instance.grants.values_list("service", "purposes")}
        if grants == current:
            return
        try:
            with transaction.atomic():
                services.set_grants(self.instance, grants, caller=self.caller)
        except services.InvalidClient as exc:
            self.add_error("grants" if exc.field == "grants" else None, exc.message)
        except Denied as exc:
            self.add_error(None, exc.reason)


    def _register_application(self):
        kind = self.cleaned_data.get("oidc_kind")
        if not kind or self.errors:
            return
        try:
            with transaction.atomic():
                self.registered_application, self.raw_secret = services.register_oidc_client(
                    caller=self.caller, client=self.instance, kind=kind,
                    redirect_uris=_uri_lines(self.cleaned_data.get("oidc_redirect_uris")),
                    post_logout_redirect_uris=_uri_lines(self.cleaned_data.get("oidc_post_logout_redirect_uris")))
        except services.InvalidClient as exc:
            field = {"redirect_uris": "oidc_redirect_uris", "post_logout_redirect_uris": "oidc_post_logout_redirect_uris",
                     "kind": "oidc_kind"}.get(exc.field)
            self.add_error(field, exc.message)
        except Denied as exc:
            self.add_error(None, exc.reason)


@admin.register(ClientSystem)
class ClientSystemAdmin(admin.ModelAdmin):
    list_display = ["identifier", "name", "agency", "is_active", "key_hint", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["agency"]
    search_fields = ["identifier", "name"]
    autocomplete_fields = ["agency"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["agency", "identifier", "name", "verify_limit_per_minute", "grants"]})]
        return [(None, {"fields": ["identifier", "name", "agency", "key_hint", "is_active", "verify_limit_per_minute",
                                   "created_at"]}),
                (_("Rights"), {"fields": ["grants"]}),
                (_("Single sign-on and OAuth 2.0"), {"fields": ["oidc_applications", "oidc_kind", "oidc_redirect_uris",
                                                                "oidc_post_logout_redirect_uris"]})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["identifier", "name", "agency", "key_hint", "is_active", "verify_limit_per_minute", "created_at",
                "oidc_applications"]

    @admin.display(description=_("Applications"))
    def oidc_applications(self, obj):
        links = obj.oidc_applications.select_related("application").order_by("created_at") if obj.pk else []
        rows = [(link.application.client_id, link.get_kind_display(), link.application.redirect_uris or "—")
                for link in links]
        if not rows:
            return _("None yet.")
        return format_html("<ul>{}</ul>", format_html_join("", "<li><code>{}</code>: {} ({})</li>", rows))

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = ClientSystemChangeForm if obj is not None else ClientSystemAddForm
        form = super().get_form(request, obj, change=change, form=base, **kwargs)
        return type(form.__name__, (form,), {"caller": caller_for_user(request.user)})

    def save_model(self, request, obj, form, change):
        """Saved already, by the service the form called; here the new key is shown, this once."""
        if not change and form.raw_key:
            messages.warning(request, format_html(
                _("The API key of {identifier} is <code>{key}</code>. Copy it now and hand it to the system's "
                  "operators securely: it is shown only this once, and egov keeps only its digest and its first "
                  "characters ({hint})."), identifier=obj.identifier, key=form.raw_key, hint=obj.key_hint))
        if change and getattr(form, "raw_secret", ""):
            messages.warning(request, format_html(
                _("{identifier} has a new application. Client id <code>{client_id}</code>, client secret "
                  "<code>{secret}</code>. Copy the secret now and hand it to the system's operators securely: it is "
                  "shown only this once (egov keeps only a hash of it). Discovery: {discovery}"),
                identifier=obj.identifier, client_id=form.registered_application.client_id, secret=form.raw_secret,
                discovery=request.build_absolute_uri("/.well-known/openid-configuration")))

    def save_related(self, request, form, formsets, change):
        """Nothing to save: the grants were set by the service while the form was validated."""

    def has_delete_permission(self, request, obj=None):
        # The ledger and the message log name client systems; revoke their rights instead.
        return False


def _refuse_plain_applications() -> None:
    """DOT's application admin, kept for looking at applications, but without adding or changing them there: each
    application belongs to a client system and is made by ``services.register_oidc_client``."""
    from oauth2_provider.models import get_application_model

    application_model = get_application_model()
    if not admin.site.is_registered(application_model):
        return
    base = type(admin.site.get_model_admin(application_model))
    admin.site.unregister(application_model)

    class LinkedApplicationAdmin(base):
        # DOT's Application links "View on site" to DOT's own management pages, which egov does not route (only the
        # OpenID Connect endpoints): the link answered a server error.
        view_on_site = False

        def has_add_permission(self, request):
            return False

        def has_change_permission(self, request, obj=None):
            return False

    admin.site.register(application_model, LinkedApplicationAdmin)


_refuse_plain_applications()
