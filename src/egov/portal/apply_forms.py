"""Forms of the apply-online flow, generated from the procedure version's e-form (JSON Schema + ``ui_schema``).

They parse and check the shape of each step's input; ``apply_services`` keeps the draft and
``dossiers.services.submit_online`` decides at submission. Labels, widgets, choices, help and placeholders come
from ``ui_schema`` (docs/catalogue-format.md); a field without hints falls back to the schema's ``title``.
"""
from datetime import date
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from egov.kernel.text import megabytes
from egov.dossiers.forms import (  # noqa: F401  (the e-form's fields are built as the desk builds them; re-exported)
    DATE_FORMATS, PIN_REGEX, answer_rows, commune_name, date_field, pattern_example, schema_field)

def to_json_value(value):
    """A cleaned form value as the e-form's JSON holds it."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value % 1 else int(value)
    return value


def to_raw(value, spec: dict) -> str:
    """A stored JSON value (or a prefill) as the text the field shows."""
    if value is None:
        return ""
    if spec.get("format") == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value).strftime(DATE_FORMATS[0])
        except ValueError:
            return value
    if isinstance(value, date):
        return value.strftime(DATE_FORMATS[0])
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


class EFormStep(forms.Form):
    """One step of the e-form: a few of its fields (and, on the first step, where to apply)."""

    def __init__(self, *args, version, names: list[str], agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        schema = version.form_schema or {}
        ui_schema = version.ui_schema or {}
        required = set(schema.get("required", []))
        properties = schema.get("properties") or {}
        if agencies:
            self.fields["agency"] = forms.ChoiceField(
                label=_("Where to apply"), help_text=_("The agency that will receive your dossier."),
                choices=[("", _("Choose"))] + [(a.code, a.name) for a in agencies])
        self.form_names = []
        for name in names:
            self.fields[f"form_{name}"] = schema_field(name, properties.get(name) or {}, ui_schema.get(name) or {},
                                                       name in required)
            self.form_names.append(name)

    def answers(self) -> dict:
        return {name: to_json_value(self.cleaned_data.get(f"form_{name}")) for name in self.form_names
                if self.cleaned_data.get(f"form_{name}") not in (None, "")}


def personal_id_problem(number: str, date_of_birth=None) -> str:
    """Why a personal identification number cannot be the person's: its province code, or digits 4-6 against the
    date of birth when it is given (a number 001099… is of someone born in 1999); "" when it can be."""
    from egov.registries.rules import InvalidPersonalId, check_personal_id

    try:
        check_personal_id(number, date_of_birth=date_of_birth)
    except InvalidPersonalId as exc:
        return str(exc.message)
    return ""


def subject_errors(subject: dict) -> dict[str, list[str]]:
    """The subject step's errors in a draft's saved subject (``apply_services.submit`` checks it again: a draft may
    be saved with errors and taken to the review), by the service's names (``subject.id_number``)."""
    if not subject.get("on_behalf"):
        return {}
    form = SubjectStep({"on_behalf": "1", "subject_full_name": subject.get("full_name", ""),
                        "subject_id_number": subject.get("id_number", ""),
                        "subject_date_of_birth": subject.get("date_of_birth_raw", "")})
    if form.is_valid():
        return {}
    return {"subject." + name.removeprefix("subject_"): list(errors) for name, errors in form.errors.items()}


class SubjectStep(forms.Form):
    """Người được giải quyết: applying for oneself or on behalf of someone else (a parent for a child)."""

    on_behalf = forms.TypedChoiceField(
        label=_("Who is this application for?"), widget=forms.RadioSelect, coerce=lambda v: v == "1", initial="0",
        choices=[("0", _("For myself")), ("1", _("For someone else (for example, my child)"))])
    subject_full_name = forms.CharField(label=_("Their full name"), max_length=200, required=False)
    subject_id_number = forms.RegexField(label=_("Their personal identification number"), regex=PIN_REGEX,
                                         required=False, help_text=_("12 digits, if the person has one."),
                                         error_messages={"invalid": _("Enter the 12 digits of the number.")},
                                         widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    subject_date_of_birth = date_field(_("Their date of birth"))

    def clean(self):
        data = super().clean()
        if data.get("on_behalf") and not data.get("subject_full_name"):
            self.add_error("subject_full_name", _("Enter the full name of the person the application is for."))
        if data.get("on_behalf") and data.get("subject_id_number"):
            problem = personal_id_problem(data["subject_id_number"], data.get("subject_date_of_birth"))
            if problem:
                self.add_error("subject_id_number", problem)
        return data

    def subject(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("on_behalf"):
            return None
        return {"full_name": data["subject_full_name"], "id_number": data.get("subject_id_number") or "",
                "date_of_birth": data["subject_date_of_birth"].isoformat() if data.get("subject_date_of_birth") else ""}


class FilesStep(forms.Form):
    """One group of dossier components: for each, a file to upload, or one of the applicant's stored documents."""

    def __init__(self, *args, components: list[dict], stored: dict, uploaded: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.components = components
        self.uploaded = uploaded
        for component in components:
            code = component["code"]
            fitting = stored.get(code) or []
            if fitting:
                self.fields[f"use_{code}"] = forms.ChoiceField(
                    label=_("Use a document from your data store?"), widget=forms.RadioSelect, required=False,
                    choices=[("", _("No, I upload a file"))] + [(str(d.uid), d.label) for d in fitting])
            # allow_empty_file: an empty file is refused by the service, which names it (Django's own message
            # came too, for the same field).
            self.fields[f"file_{code}"] = forms.FileField(
                label=component.get("name") or code, required=False, allow_empty_file=True,
                help_text=(_("Already uploaded: choose a file only to replace it.") if code in uploaded
                           else _("A scan or photo: PDF, JPEG or PNG, at most %(limit)s MB.")
                           % {"limit": megabytes(settings.EGOV_ATTACHMENT_MAX_BYTES)}))

    def rows(self):
        for component in self.components:
            code = component["code"]
            yield {"component": component, "code": code, "required": component.get("required", True),
                   "file": self[f"file_{code}"], "use": self[f"use_{code}"] if f"use_{code}" in self.fields else None,
                   "uploaded": self.uploaded.get(code)}
