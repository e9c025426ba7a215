"""Admin for client systems (hệ thống khách): the platform administrator registers them and sets their rights.

Both go through ``egov.exchange.services`` (``register_client``, ``set_grants``), called while the form is validated,
so a refusal appears beside the field it is about and nothing typed is lost. The API key is shown once, in the message
after registration; only its digest and first characters are stored, so it can never be shown again.
"""
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from egov.accounts.services import caller_for_user
from egov.exchange import services
from egov.exchange.models import ClientSystem
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


class ClientSystemChangeForm(forms.ModelForm):
    """Change the rights only (``services.set_grants``); identity and key never change here."""

    grants = GrantsField()
    caller = None

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
                (_("Rights"), {"fields": ["grants"]})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["identifier", "name", "agency", "key_hint", "is_active", "verify_limit_per_minute", "created_at"]

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

    def save_related(self, request, form, formsets, change):
        """Nothing to save: the grants were set by the service while the form was validated."""

    def has_delete_permission(self, request, obj=None):
        # The ledger and the message log name client systems; revoke their rights instead.
        return False
