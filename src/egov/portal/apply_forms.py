"""Forms of the apply-online flow, generated from the procedure version's e-form (JSON Schema + ``ui_schema``).

They parse and check the shape of each step's input; ``apply_services`` keeps the draft and
``dossiers.services.submit_online`` decides at submission. Labels, widgets, choices, help and placeholders come
from ``ui_schema`` (docs/catalogue-format.md); a field without hints falls back to the schema's ``title``.
"""
import re
from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from egov.dossiers.forms import DATE_FORMATS, date_field

PIN_REGEX = r"^\d{12}$"
COMMUNE_REGEX = r"^\d{5}$"
COMMUNE_EXAMPLE = "26743"  # Phường Bến Thành, Thành phố Hồ Chí Minh

# One piece of a simple pattern: a digit, a capital or small letter, or a literal character, with a fixed count.
_PIECE = re.compile(r"(\\d|\[0-9\]|\[A-Z\]|\[a-z\]|\\[-./ ]|[-./ A-Za-z0-9])(?:\{(\d{1,2})\})?")
_SAMPLES = {"\\d": "1234567890", "[0-9]": "1234567890", "[A-Z]": "ABCDEFGHIJ", "[a-z]": "abcdefghij"}


def pattern_example(pattern: str) -> str:
    """A value of the form a simple anchored pattern asks for (``^\\d{5}$`` gives 12345, ``^[A-Z]\\d{7}$`` gives
    A1234567); "" for a pattern too rich to illustrate this way."""
    if not (pattern.startswith("^") and pattern.endswith("$")) or pattern.endswith("\\$"):
        return ""
    body, example, at = pattern[1:-1], "", 0
    while at < len(body):
        piece = _PIECE.match(body, at)
        if piece is None:
            return ""
        token, count = piece.group(1), int(piece.group(2) or 1)
        sample = _SAMPLES.get(token) or token.removeprefix("\\")
        example += (sample * count)[:count]
        at = piece.end()
    return example


def _example(spec: dict, ui: dict) -> str:
    """An example of a valid value: the schema's first ``examples`` (JSON Schema), else one made from the pattern."""
    examples = spec.get("examples")
    given = examples[0] if isinstance(examples, list) and examples else ""
    return str(given) if given else pattern_example(spec.get("pattern") or "")


def pattern_validator(label: str, spec: dict, ui: dict) -> RegexValidator | None:
    """The schema's ``pattern`` checked at the step, with a message that names the field and shows the form asked
    for (an example, else the field's description), rather than a bare "not the expected format" at the review."""
    pattern = spec.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        return None
    try:
        re.compile(pattern)
    except re.error:
        return None  # the catalogue checks its schemas with the same engine: cannot happen with an imported one
    example = _example(spec, ui)
    digits = re.fullmatch(r"\^\\d\{(\d{1,2})\}\$", pattern)
    hint = ui.get("help") or spec.get("description") or ""
    if digits:
        message = _("%(field)s: enter %(n)s digits, for example %(example)s.") % {
            "field": label, "n": digits.group(1), "example": example}
    elif example:
        message = _("%(field)s: enter it in the expected form, for example %(example)s.") % {
            "field": label, "example": example}
    elif hint:
        message = _("%(field)s does not have the expected form: %(hint)s") % {"field": label, "hint": hint}
    else:
        message = _("%(field)s does not have the expected form.") % {"field": label}
    return RegexValidator(pattern, message=message, code="pattern")


def _bound_validators(spec: dict) -> list:
    """``exclusiveMinimum`` and ``exclusiveMaximum`` of a number (``minimum`` and ``maximum`` are the fields' own)."""
    validators = []
    if isinstance(spec.get("exclusiveMinimum"), int | float) and not isinstance(spec["exclusiveMinimum"], bool):
        limit = spec["exclusiveMinimum"]

        def above(value, limit=limit):
            if value is not None and value <= limit:
                raise ValidationError(_("Enter a number greater than %(limit)s.") % {"limit": limit}, code="min")

        validators.append(above)
    if isinstance(spec.get("exclusiveMaximum"), int | float) and not isinstance(spec["exclusiveMaximum"], bool):
        limit = spec["exclusiveMaximum"]

        def below(value, limit=limit):
            if value is not None and value >= limit:
                raise ValidationError(_("Enter a number less than %(limit)s.") % {"limit": limit}, code="max")

        validators.append(below)
    return validators


def _communes():
    from egov.registries.models import AdministrativeUnit

    Unit = AdministrativeUnit
    return Unit.objects.filter(generation=Unit.Generation.CURRENT, level=Unit.Level.COMMUNE)


def commune_choices():
    """The current communes (xã, phường, đặc khu) by province, as grouped choices: the value is the 5-digit code."""
    groups: dict[str, list] = {}
    for code, name, province in _communes().order_by("parent__name", "name", "code").values_list(
            "code", "name", "parent__name"):
        groups.setdefault(province or "", []).append((code, name))
    return [("", _("Choose"))] + [(province, options) for province, options in groups.items()]


def commune_name(code: str) -> str:
    """"Phường Bến Thành, Thành phố Hồ Chí Minh" for its code; "" for a code the platform does not know."""
    unit = _communes().filter(code=code).select_related("parent").first() if code else None
    return unit.full_name if unit else ""


class CommuneField(forms.ChoiceField):
    """Xã, phường, đặc khu: one of the current communes the platform knows (the administrative units registry),
    chosen from a list grouped by province; the value is its 5-digit code. A posted code is checked with one query,
    not against the 3,000-odd choices."""

    def __init__(self, *, label, **kwargs):
        self.label_text = label
        super().__init__(label=label, choices=commune_choices, **kwargs)

    def valid_value(self, value):
        return bool(re.fullmatch(COMMUNE_REGEX, str(value))) and _communes().filter(code=value).exists()

    def validate(self, value):
        forms.Field.validate(self, value)
        if value and not self.valid_value(value):
            raise ValidationError(_("%(field)s: choose the commune, ward or special zone from the list.")
                                  % {"field": self.label_text}, code="invalid_choice")


def _commune_field(label: str, spec: dict, ui: dict, help_text: str, required: bool, attrs: dict) -> forms.Field:
    """The ``commune`` widget: a choice of the communes the platform knows; without any loaded (a fresh install),
    a text box for the code, checked against the schema's pattern (else five digits), with a hint."""
    if _communes().exists():
        return CommuneField(label=label, help_text=help_text, required=required)
    given = _example({key: value for key, value in spec.items() if key != "pattern"}, ui)
    spec = {**spec, "pattern": spec.get("pattern") or COMMUNE_REGEX}
    example = given or (COMMUNE_EXAMPLE if spec["pattern"] == COMMUNE_REGEX else _example(spec, ui))
    attrs.update(inputmode="numeric", autocomplete="off")
    return forms.CharField(label=label, required=required, widget=forms.TextInput(attrs=attrs),
                           help_text=help_text or _("The 5-digit code of the commune, ward or special zone, for "
                                                    "example %(example)s.") % {"example": example},
                           validators=[pattern_validator(label, {**spec, "examples": [example]}, ui)])


def _label(name: str, spec: dict, ui: dict) -> str:
    return ui.get("label") or spec.get("title") or name.replace("_", " ").capitalize()


def schema_field(name: str, spec: dict, ui: dict, required: bool) -> forms.Field:
    """A form field for one property of the e-form: its type and constraints from the schema, its look from the
    hints (widget ``text``, ``textarea``, ``number``, ``date``, ``select``, ``radio``, ``checkbox``, ``email``,
    ``tel``, ``pin``, ``commune``)."""
    label = _label(name, spec, ui)
    help_text = ui.get("help") or spec.get("description") or ""
    widget_name = ui.get("widget") or ""
    attrs = {"placeholder": ui["placeholder"]} if ui.get("placeholder") else {}
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if "enum" in spec:
        names = ui.get("choices") or {}
        options = [(str(v), str(names.get(v, names.get(str(v), v)))) for v in spec["enum"]]
        if widget_name == "radio":
            return forms.ChoiceField(label=label, help_text=help_text, required=required, choices=options,
                                     widget=forms.RadioSelect)
        return forms.ChoiceField(label=label, help_text=help_text, required=required,
                                 choices=[("", _("Choose"))] + options)
    if kind == "boolean" or widget_name == "checkbox":
        return forms.BooleanField(label=label, help_text=help_text, required=False)
    if kind == "integer":
        return forms.IntegerField(label=label, help_text=help_text, required=required, min_value=spec.get("minimum"),
                                  max_value=spec.get("maximum"), widget=forms.NumberInput(attrs=attrs),
                                  validators=_bound_validators(spec))
    if kind == "number":
        return forms.DecimalField(label=label, help_text=help_text, required=required, min_value=spec.get("minimum"),
                                  max_value=spec.get("maximum"), widget=forms.NumberInput(attrs=attrs),
                                  validators=_bound_validators(spec))
    if spec.get("format") == "date" or widget_name == "date":
        return date_field(label, required=required, help_text=help_text or None)
    if widget_name == "commune":
        return _commune_field(label, spec, ui, help_text, required, attrs)
    if widget_name == "pin" or spec.get("pattern") == PIN_REGEX:
        attrs.update(inputmode="numeric", autocomplete="off")
        return forms.RegexField(label=label, help_text=help_text or _("12 digits."), required=required,
                                regex=PIN_REGEX, widget=forms.TextInput(attrs=attrs),
                                error_messages={"invalid": _("Enter the 12 digits of the number.")})
    checks = [v for v in [pattern_validator(label, spec, ui)] if v]
    if checks and not help_text and _example(spec, ui):
        help_text = _("For example: %(example)s") % {"example": _example(spec, ui)}
    if widget_name == "email" or spec.get("format") == "email":
        return forms.EmailField(label=label, help_text=help_text, required=required, widget=forms.EmailInput(attrs=attrs),
                                validators=checks)
    widget = forms.Textarea(attrs={"rows": 3, **attrs}) if widget_name == "textarea" else (
        forms.TextInput(attrs={"type": "tel", **attrs}) if widget_name == "tel" else forms.TextInput(attrs=attrs))
    return forms.CharField(label=label, help_text=help_text, required=required, widget=widget, validators=checks,
                           max_length=spec.get("maxLength"), min_length=spec.get("minLength"))


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
            self.fields[f"file_{code}"] = forms.FileField(
                label=component.get("name") or code, required=False,
                help_text=(_("Already uploaded: choose a file only to replace it.") if code in uploaded
                           else _("A scan or photo: PDF, JPEG or PNG.")))

    def rows(self):
        for component in self.components:
            code = component["code"]
            yield {"component": component, "code": code, "required": component.get("required", True),
                   "file": self[f"file_{code}"], "use": self[f"use_{code}"] if f"use_{code}" in self.fields else None,
                   "uploaded": self.uploaded.get(code)}
