"""Forms of the back office and of the applicant's dossier page. They only parse and check the shape of the input;
``services.py`` decides (status, rights, content) and its ``InvalidInput`` comes back here as errors beside the fields.

The desk intake form is built from the procedure version: its e-form (JSON Schema, labels from ``ui_schema`` or the
property's ``title``) and one file field per dossier component (thành phần hồ sơ).
"""
import re
from datetime import date

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from egov.accounts.models import User
from egov.accounts.rules import role_label
from egov.dossiers import rules
from egov.dossiers.models import Channel
from egov.kernel.templatetags.content_language import CATALOGUE_LANGUAGE
from egov.kernel.text import megabytes, vietnamese_key
from egov.procedures.models import ProcedureVersion

DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
DATETIME_FORMATS = ["%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", *DATE_FORMATS]
PERSON_FIELDS = ("full_name", "id_number", "date_of_birth", "phone", "email", "address")


_DAY_MONTH_YEAR = re.compile(r"\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\s*")


class DayMonthYearField(forms.DateField):
    """A date typed day/month/year. One typed in the right form that no calendar has (31/02/2026) is told so, not
    told to use the form it already uses."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            if isinstance(value, str) and _DAY_MONTH_YEAR.fullmatch(value):
                raise ValidationError(_("%(value)s is not a date that exists: check the day and the month.")
                                      % {"value": value.strip()}, code="invalid") from None
            raise


def date_field(label, *, required=False, help_text=None) -> forms.DateField:
    return DayMonthYearField(
        label=label, required=required, input_formats=DATE_FORMATS,
        help_text=help_text or _("Day/month/year, e.g. 17/05/2003."),
        error_messages={"invalid": _("Enter the date as day/month/year, e.g. 17/05/2003.")},
        widget=forms.DateInput(attrs={"autocomplete": "off", "spellcheck": "false"}, format="%d/%m/%Y"))


def lines(text: str) -> list[str]:
    """One item per non-empty line, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ServiceErrorsMixin:
    """Put a service's ``InvalidInput`` (a ``ValidationError``) beside the fields it names; what the form does not
    have (or a plain message) goes to the top of the form. ``service_fields`` maps the service's names to ours."""

    service_fields: dict[str, str] = {}

    def show_service_error(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                field = self.service_fields.get(name, name.replace(".", "_"))
                for error in errors:
                    for message in error.messages:
                        self.add_error(field if field in self.fields else None, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)


# --- Desk intake (tiếp nhận trực tiếp / qua bưu chính) ---------------------------------------------------------------

def current_versions(agency, *, today: date | None = None) -> list[ProcedureVersion]:
    """The version in force today of each procedure the agency implements (the newest ``effective_from`` ≤ today)."""
    today = today or timezone.localdate()
    versions = (ProcedureVersion.objects.filter(agencies=agency, effective_from__lte=today)
                .select_related("procedure").order_by("procedure__code", "-effective_from", "-version"))
    current, seen = [], set()
    for version in versions:
        if version.procedure_id not in seen:
            seen.add(version.procedure_id)
            current.append(version)
    return current


class ChooseProcedureForm(forms.Form):
    """Step 1 of the intake: which procedure (a GET form: it works without JavaScript)."""

    version = forms.TypedChoiceField(label=_("Procedure"), coerce=int, empty_value=None,
                                     help_text=_("The procedures your agency implements, in their current version."))

    def __init__(self, *args, versions: list[ProcedureVersion], **kwargs):
        super().__init__(*args, **kwargs)
        self.versions = {v.pk: v for v in versions}
        self.fields["version"].choices = [("", _("Choose the procedure"))] + [
            (v.pk, f"{v.procedure.code} – {v.name}") for v in versions]

    def chosen(self) -> ProcedureVersion | None:
        return self.versions.get(self.cleaned_data["version"]) if self.is_valid() else None


# --- The e-form's fields, for the desk's intake and the citizen's apply-online steps alike --------------------------

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


def _alphabetical(units) -> list[tuple[str, str]]:
    """(code, name) in Vietnamese alphabetical order of the proper name ("Nghệ An" under N, not under "Tỉnh"), as a
    person looks for their own; the database's order puts "Đ" after "Z"."""
    rows = sorted(units.values_list("code", "name", "short_name"),
                  key=lambda row: (vietnamese_key(row[2] or row[1]), vietnamese_key(row[1]), row[0]))
    return [(code, name) for code, name, _short in rows]


def provinces() -> list[tuple[str, str]]:
    """The current provinces and centrally-run cities: the first list of the commune picker."""
    from egov.registries.models import AdministrativeUnit as Unit

    return _alphabetical(Unit.objects.filter(generation=Unit.Generation.CURRENT, level=Unit.Level.PROVINCE))


def communes_of(province: str) -> list[tuple[str, str]]:
    """The current communes (xã, phường, đặc khu) of one province; none for a code that is not a current
    province's."""
    if not re.fullmatch(r"\d{2}", province or ""):
        return []
    return _alphabetical(_communes().filter(parent__code=province))


def commune_name(code: str) -> str:
    """"Phường Bến Thành, Thành phố Hồ Chí Minh" for its code; "" for a code the platform does not know."""
    unit = _communes().filter(code=code).select_related("parent").first() if code else None
    return unit.full_name if unit else ""


SHOW_COMMUNES = "show_communes"  # the picker's button without JavaScript: show the chosen province's communes
PRINT_DECLARATION = "print_declaration"  # the intake's second button: the declaration to sign, from the answers


class CommunePicker(forms.Select):
    """Two lists: the province, then its communes (a few dozen to 170 options, not the country's 3,300, which made
    every page with an address weigh some 200 KB). The province comes from the commune's code, or from what was
    posted in ``<name>_province``. With JavaScript, choosing a province fetches its communes
    (``portal:communes``); without, the button next to it posts the form (``SHOW_COMMUNES``) and the page comes back
    with them, everything typed kept (``keep_chosen_provinces``)."""

    template_name = "dossiers/widgets/commune_picker.html"
    province = ""

    def value_from_datadict(self, data, files, name):
        self.province = str(data.get(f"{name}_province") or "").strip()
        return super().value_from_datadict(data, files, name)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        code = str(value or "")
        province = self.province or _province_of(code)
        communes = communes_of(province)
        context["picker"] = {"provinces": provinces(), "province": province, "communes": communes,
                             "value": code if any(code == c for c, _name in communes) else "",
                             "show": SHOW_COMMUNES}
        return context


def _province_of(code: str) -> str:
    if not re.fullmatch(COMMUNE_REGEX, code or ""):
        return ""
    return _communes().filter(code=code).values_list("parent__code", flat=True).first() or ""


def keep_chosen_provinces(form: forms.Form, data) -> None:
    """After the picker's button posted the form: an unbound form showing what was typed also shows the provinces
    chosen in its commune pickers (and their communes)."""
    for bound in form:
        if isinstance(bound.field.widget, CommunePicker):
            bound.field.widget.province = str(data.get(f"{bound.html_name}_province") or "").strip()


class CommuneField(forms.ChoiceField):
    """Xã, phường, đặc khu: one of the current communes the platform knows (the administrative units registry),
    chosen in two lists, the province then its communes (``CommunePicker``); the value is its 5-digit code. A
    posted code is checked with one query, not against the 3,000-odd choices."""

    widget = CommunePicker

    def __init__(self, *, label, **kwargs):
        self.label_text = label
        super().__init__(label=label, choices=(), **kwargs)

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


def field_order(version: ProcedureVersion) -> list[str]:
    """The e-form's fields in the order it asks them: ``ui:order`` first, then the schema's own order."""
    properties = list(((version.form_schema or {}).get("properties") or {}).keys())
    order = [name for name in (version.ui_schema or {}).get("ui:order", []) if name in properties]
    return order + [name for name in properties if name not in order]


def answer_text(value, spec: dict, ui: dict) -> str:
    """An answer as a person reads it: the label of a choice, the commune's name, a date as day/month/year, yes or
    no; the value works as stored in a dossier (JSON) or as typed in a draft."""
    if value is None or value == "":
        return ""
    if spec.get("type") == "boolean" or isinstance(value, bool):
        return str(_("Yes") if value in (True, "on", "true", "1") else _("No"))
    if ui.get("widget") == "commune":
        return commune_name(str(value)) or str(value)
    if "enum" in spec:
        names = ui.get("choices") or {}
        return str(names.get(value, names.get(str(value), value)))
    if spec.get("format") == "date":
        return iso_date_text(value)
    return str(value)


def iso_date_text(value) -> str:
    """A date kept as ISO text (2003-05-17) as pages write it (17/05/2003); anything else as it was written."""
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def answer_rows(version: ProcedureVersion, values: dict, *, all_fields: bool = False) -> list[tuple[str, str, str]]:
    """(field name, label, answer) of the e-form's answers in the form's order, labelled as the form labels its
    fields; ``all_fields`` keeps the unanswered ones too (the review shows what is still empty)."""
    properties = (version.form_schema or {}).get("properties") or {}
    ui_schema = version.ui_schema or {}
    rows = []
    for name in field_order(version):
        spec, ui = properties.get(name) or {}, ui_schema.get(name) or {}
        text = answer_text(values.get(name), spec, ui)
        if text or all_fields:
            rows.append((name, _label(name, spec, ui), text))
    return rows


def _personal_id_check(sex: str | None):
    """The registry's rules of the number (place code) and the field's ``sex`` hint, on 12 digits only: anything else
    already has the field's own message."""
    from egov.registries.rules import personal_id_field_problem

    def check(value):
        problem = personal_id_field_problem(value, sex=sex) if re.fullmatch(PIN_REGEX, value or "") else ""
        if problem:
            raise forms.ValidationError(problem, code="personal_id")

    return check


def schema_field(name: str, spec: dict, ui: dict, required: bool) -> forms.Field:
    """A form field for one property of the e-form: its type and constraints from the schema, its look from the
    hints (widget ``text``, ``textarea``, ``number``, ``date``, ``select``, ``radio``, ``checkbox``, ``email``,
    ``tel``, ``pin``, ``commune``).

    Its label, its own help and its choices are the catalogue's text, in Vietnamese whatever the page's language:
    ``content_language`` says so, and the field templates (registries/_field.html, accounts/_radios.html) mark them
    ``lang`` on a page in another language, for screen readers."""
    field = _schema_field(name, spec, ui, required)
    field.content_language = CATALOGUE_LANGUAGE
    field.help_in_content_language = bool(ui.get("help") or spec.get("description"))
    return field


def _schema_field(name: str, spec: dict, ui: dict, required: bool) -> forms.Field:
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
                                error_messages={"invalid": _("Enter the 12 digits of the number.")},
                                validators=[_personal_id_check(ui.get("sex"))])
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



class IntakeForm(ServiceErrorsMixin, forms.Form):
    """Step 2 of the intake: the channel, the applicant, the subject when different, the e-form, the scans."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    channel = forms.TypedChoiceField(
        label=_("How the dossier came in"), coerce=int, widget=forms.RadioSelect, initial=Channel.IN_PERSON,
        choices=[(Channel.IN_PERSON, _("In person at the desk")), (Channel.POST, _("By the public postal service"))])
    applicant_full_name = forms.CharField(label=_("Full name"), max_length=200)
    applicant_id_number = forms.RegexField(label=_("Personal identification number"), regex=r"^\d{12}$",
                                           help_text=_("12 digits."),
                                           error_messages={"invalid": _("Enter the 12 digits of the number.")})
    applicant_date_of_birth = date_field(_("Date of birth"))
    applicant_phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    applicant_email = forms.EmailField(label=_("Email"), required=False)
    applicant_address = forms.CharField(label=_("Address"), max_length=300, required=False)
    subject_different = forms.BooleanField(
        label=_("The dossier is for someone else (e.g. a parent files for a child)"), required=False)
    subject_full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    subject_id_number = forms.RegexField(label=_("Personal identification number"), regex=r"^\d{12}$",
                                         required=False, help_text=_("12 digits, if the person has one."),
                                         error_messages={"invalid": _("Enter the 12 digits of the number.")})
    subject_date_of_birth = date_field(_("Date of birth"))
    subject_phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    subject_email = forms.EmailField(label=_("Email"), required=False)
    subject_address = forms.CharField(label=_("Address"), max_length=300, required=False)

    service_fields = {"channel": "channel", "applicant": "applicant_full_name", "subject": "subject_full_name"}

    def __init__(self, *args, version: ProcedureVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_fields = dict(type(self).service_fields)  # per form: the e-form and components add theirs
        self.procedure_version = version
        self.fields["version"].initial = version.pk
        schema = version.form_schema or {}
        ui_schema = version.ui_schema or {}
        required = set(schema.get("required", []))
        self.form_field_names = []
        for name, spec in (schema.get("properties") or {}).items():
            field_name = f"form_{name}"
            self.fields[field_name] = schema_field(name, spec or {}, ui_schema.get(name) or {}, name in required)
            self.form_field_names.append(field_name)
            self.service_fields[f"form_data.{name}"] = field_name
            self.service_fields[name] = field_name
        self.file_field_names = []
        for component in version.components or []:
            field_name = f"file_{component['code']}"
            self.fields[field_name] = forms.FileField(
                label=component.get("name") or component["code"], required=bool(component.get("required")),
                allow_empty_file=True,  # refused by the service, which names the file
                help_text=_("A scan or photo (PDF, JPEG or PNG), at most %(limit)s MB.")
                % {"limit": megabytes(settings.EGOV_ATTACHMENT_MAX_BYTES)})
            self.file_field_names.append(field_name)
            self.service_fields[component["code"]] = field_name
            self.service_fields[f"files.{component['code']}"] = field_name

    def clean(self):
        data = super().clean()
        if data.get("subject_different") and not data.get("subject_full_name"):
            self.add_error("subject_full_name", _("Enter the full name of the person the dossier is for."))
        return data

    def applicant_fields(self):
        return [self[f"applicant_{name}"] for name in PERSON_FIELDS]

    def subject_fields(self):
        return [self[f"subject_{name}"] for name in PERSON_FIELDS]

    def form_fields(self):
        return [self[name] for name in self.form_field_names]

    def file_fields(self):
        return [self[name] for name in self.file_field_names]

    @property
    def offers_declaration_to_sign(self) -> bool:
        """The desk may print the declaration from the answers typed (the procedure has one its e-form stands for)."""
        return bool(self.form_field_names) and self.procedure_version.eform_component is not None

    def scans_come_later(self) -> None:
        """Printing the declaration to sign comes before the scans (the signed declaration is one of them): the
        components are not asked for then."""
        for name in self.file_field_names:
            self.fields[name].required = False

    def files_to_choose_again(self) -> list[str]:
        """Browsers never send a chosen file back to the page: name the files that were chosen and must be chosen
        again after an error."""
        return [str(self.fields[name].label) for name in self.file_field_names if self.files.get(name)]

    def _person(self, prefix: str) -> dict:
        return {name: self.cleaned_data.get(f"{prefix}_{name}") or (None if name == "date_of_birth" else "")
                for name in PERSON_FIELDS}

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        form_data = {}
        for field_name in self.form_field_names:
            value = data.get(field_name)
            if value in (None, "") and not isinstance(value, bool):
                continue
            if isinstance(value, date):
                value = value.isoformat()
            elif hasattr(value, "as_tuple"):  # Decimal → JSON number
                value = float(value) if value % 1 else int(value)
            form_data[field_name.removeprefix("form_")] = value
        files = [(name.removeprefix("file_"), data[name]) for name in self.file_field_names if data.get(name)]
        return {
            "procedure_version": self.procedure_version, "channel": data["channel"],
            "applicant": self._person("applicant"),
            "subject": self._person("subject") if data.get("subject_different") else None,
            "form_data": form_data, "files": files,
        }


# --- The actions on a dossier ---------------------------------------------------------------------------------------

class ActionForm(ServiceErrorsMixin, forms.Form):
    """An action without input (receive, transfer, request fees, record payment, confirm a withdrawal)."""

    def __init__(self, *args, dossier=None, officer=None, **kwargs):
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)
        self.dossier, self.officer = dossier, officer

    prefix_name = None

    def arguments(self) -> dict:
        return {}


class RefuseForm(ActionForm):
    prefix_name = "refuse"
    reasons = forms.CharField(label=_("Reasons for not receiving the dossier"), widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("One reason per line. They are printed on form 03."),
                              error_messages={"required": _("Enter at least one reason.")})
    service_fields = {"reasons": "reasons"}

    def clean_reasons(self):
        reasons = lines(self.cleaned_data["reasons"])
        if not reasons:
            raise ValidationError(_("Enter at least one reason."))
        return reasons

    def arguments(self):
        return {"reasons": self.cleaned_data["reasons"]}


class SupplementRequestForm(ActionForm):
    prefix_name = "request-supplement"
    missing = forms.CharField(label=_("What is missing or must be completed"), widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("One item per line: form 02 lists them all in one notice."),
                              error_messages={"required": _("Enter at least one missing item.")})
    note = forms.CharField(label=_("Note to the applicant"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           max_length=rules.TEXT_MAX_CHARS)
    service_fields = {"missing": "missing", "note": "note"}

    def clean_missing(self):
        missing = lines(self.cleaned_data["missing"])
        if not missing:
            raise ValidationError(_("Enter at least one missing item."))
        return missing

    def arguments(self):
        return {"missing": self.cleaned_data["missing"], "note": self.cleaned_data["note"]}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("allow_empty_file", True)  # refused by the service, which names the file
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class SupplyForm(ActionForm):
    """The supplement: files and a note, from the applicant or from a desk officer on their behalf."""
    prefix_name = "supply"
    files = MultipleFileField(label=_("Supplement files"), required=False,
                              help_text=lazy(lambda: gettext("PDF, JPEG or PNG; you can choose several (at most "
                                                             "%(count)d).") % {"count": rules.SUPPLY_MAX_FILES},
                                             str)())  # translated when shown, not at import
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("What is supplied, or why no file is needed."), max_length=rules.TEXT_MAX_CHARS)
    service_fields = {"files": "files", "file_supplement": "files", "note": "note"}

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > rules.SUPPLY_MAX_FILES:
            raise ValidationError(_("Choose at most %(limit)d files (you chose %(count)d): put the pages of one "
                                    "document in one PDF.") % {"limit": rules.SUPPLY_MAX_FILES, "count": len(files)})
        return files

    def arguments(self):
        return {"files": [("supplement", f) for f in self.cleaned_data["files"]], "note": self.cleaned_data["note"]}


APPROVE_AND_SIGN = "approve-sign"
APPROVE_AND_SIGN_LABEL = _("Approve and sign the result")
SIGN_LATER_LABEL = _("Approve; sign the result later")


class CompleteStepForm(ActionForm):
    """One processing step done: approve (forward) or return, with a note, and who takes the next step (an officer
    of the agency in the next step's role). On the last step, when a draft result or the procedure's template is
    there to sign, the approver may approve and sign the result at once (``services.approve_and_sign``)."""
    prefix_name = "complete-step"
    task_id = forms.ChoiceField(label=_("Step"))
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect, initial="approve",
                                 choices=[("approve", _("Approve and forward")), ("return", _("Return for rework"))])
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           max_length=rules.TEXT_MAX_CHARS)
    next_assignee = forms.TypedChoiceField(label=_("Next step assigned to"), required=False, coerce=int,
                                           empty_value=None)
    service_fields = {"task_id": "task_id", "decision": "decision", "note": "note", "next_assignee": "next_assignee"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        dossier, officer = self.dossier, self.officer
        open_steps = list(dossier.steps.filter(completed_at__isnull=True).order_by("started_at", "id")) \
            if dossier is not None else []
        steps = [step for step in open_steps if officer is None or step.role == officer.role]
        # The page offers the officer's own steps; a posted step of another role is still a valid choice, so that
        # the service refuses it by name (403) rather than the form calling it an invalid choice.
        self.fields["task_id"].choices = [(step.task_id, step.name) for step in (open_steps if self.is_bound else steps)]
        if len(steps) == 1:
            self.fields["task_id"].initial = steps[0].task_id
            self.fields["task_id"].widget = forms.HiddenInput()
        role = next_step_role(dossier, steps[0].task_id if steps else "") if dossier is not None else None
        officers = User.objects.none()
        if role and dossier is not None:
            officers = User.objects.filter(agency_id=dossier.receiving_agency_id, role=role, is_active=True)
        self.officers = {u.pk: u for u in officers.order_by("last_name", "first_name", "username")}
        if self.officers:
            self.fields["next_assignee"].choices = [("", _("Any officer of that role"))] + [
                (u.pk, officer_name(u)) for u in self.officers.values()]
            self.fields["next_assignee"].help_text = _("Officers of your agency in the next step's role: %(role)s.") \
                % {"role": role_label(role)}
        else:
            del self.fields["next_assignee"]  # the last step, or nobody to choose
        self._offer_signing(steps)

    def _offer_signing(self, steps) -> None:
        """The last step: "approve and sign the result" first (the result is signed when the last step approves),
        where there is something to sign; a posted choice of it is always understood (the service says why not)."""
        from egov.dossiers import services

        dossier = self.dossier
        if dossier is None:
            return
        last = len(steps) == 1 and services.approval_ends_processing(dossier, steps[0].task_id)
        if last and services.can_sign_without_upload(dossier):
            self.fields["decision"].choices = [(APPROVE_AND_SIGN, APPROVE_AND_SIGN_LABEL), ("approve", SIGN_LATER_LABEL),
                                               ("return", _("Return for rework"))]
            self.fields["decision"].initial = APPROVE_AND_SIGN
        elif last:
            self.fields["decision"].choices = [("approve", SIGN_LATER_LABEL), ("return", _("Return for rework"))]
            self.fields["decision"].help_text = _("There is no draft result and the procedure has no result template: "
                                                  "after approving, upload the result to sign it.")
        elif self.is_bound:
            self.fields["decision"].choices = [*self.fields["decision"].choices, (APPROVE_AND_SIGN, APPROVE_AND_SIGN_LABEL)]

    def service(self) -> str:
        return "approve_and_sign" if self.cleaned_data.get("decision") == APPROVE_AND_SIGN else "complete_step"

    def done_label(self):
        return APPROVE_AND_SIGN_LABEL if self.cleaned_data.get("decision") == APPROVE_AND_SIGN else None

    def arguments(self):
        data = self.cleaned_data
        if data["decision"] == APPROVE_AND_SIGN:
            return {"task_id": data["task_id"], "note": data["note"]}
        return {"task_id": data["task_id"], "decision": data["decision"], "note": data["note"],
                "next_assignee": self.officers.get(data.get("next_assignee"))}


def officer_name(user) -> str:
    return user.get_full_name() or user.username


def next_step_role(dossier, task_id: str) -> str | None:
    """The role of the step after ``task_id`` in the procedure version's steps (None after the last one)."""
    steps = dossier.procedure_version.steps or []
    ids = [step.get("id") for step in steps]
    if task_id in ids:
        index = ids.index(task_id)
        if index + 1 < len(steps):
            return steps[index + 1].get("role")
    return None


class ApologyForm(ActionForm):
    prefix_name = "apologise"
    new_appointment_at = forms.DateTimeField(
        label=_("New appointment date"), input_formats=DATETIME_FORMATS,
        help_text=_("Day/month/year and time, e.g. 20/03/2026 16:00."),
        error_messages={"invalid": _("Enter the date as day/month/year and the time, e.g. 20/03/2026 16:00.")},
        widget=forms.DateTimeInput(attrs={"autocomplete": "off"}, format="%d/%m/%Y %H:%M"))
    reason = forms.CharField(label=_("Reason for the delay"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=rules.TEXT_MAX_CHARS)
    service_fields = {"new_appointment_at": "new_appointment_at", "reason": "reason"}

    def arguments(self):
        return {"new_appointment_at": self.cleaned_data["new_appointment_at"], "reason": self.cleaned_data["reason"]}


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=rules.TEXT_MAX_CHARS)
    service_fields = {"reason": "reason"}

    def arguments(self):
        return {"reason": self.cleaned_data["reason"]}


class StopForm(ReasonForm):
    prefix_name = "stop"


class RefuseWithdrawalForm(ReasonForm):
    prefix_name = "refuse-withdrawal"


class WithdrawForm(ReasonForm):
    """The applicant asks to withdraw their dossier."""
    prefix_name = "withdraw"


class _ResultFileForm(ActionForm):
    """A result's file, optional (without one, the procedure's template is rendered)."""
    service_fields = {"file": "file"}

    def arguments(self):
        return {"file": self.cleaned_data.get("file")}


class AttachResultForm(_ResultFileForm):
    """Dự thảo kết quả: the draft result, saved while processing steps remain open (unsigned, no result code)."""
    prefix_name = "attach-result"
    file = forms.FileField(label=_("Draft result"), required=False,
                           help_text=_("A PDF or a scan. Leave empty to generate a preview from the procedure's "
                                       "template. The draft is not signed and has no result code; the applicant does "
                                       "not see it. It is signed when the last step is approved."))


class SignResultForm(_ResultFileForm):
    """Ký số: once the last step is approved, the approver signs and issues the result."""
    prefix_name = "sign-result"
    file = forms.FileField(label=_("Result to sign"), required=False,
                           help_text=_("Leave empty to sign the latest draft result as it is (a generated draft is "
                                       "rendered again from the procedure's template now). Or upload a PDF or a scan "
                                       "to sign instead."))


class DeliverForm(ActionForm):
    prefix_name = "deliver"
    method = forms.ChoiceField(label=_("How the result was delivered"), widget=forms.RadioSelect, initial="desk",
                               choices=[("desk", _("At the desk")), ("post", _("By post")), ("online", _("Online"))])
    service_fields = {"method": "method"}

    def arguments(self):
        return {"method": self.cleaned_data["method"]}


class ReceiveForm(ActionForm):
    prefix_name = "receive"


class TransferForm(ActionForm):
    prefix_name = "transfer"


class RequestFeesForm(ActionForm):
    prefix_name = "request-fees"


class RecordPaymentForm(ActionForm):
    prefix_name = "record-payment"


class ConfirmWithdrawalForm(ActionForm):
    prefix_name = "confirm-withdrawal"


# --- The tracking book (sổ theo dõi hồ sơ, form 07) ----------------------------------------------------------------

class BookFilterForm(forms.Form):
    date_from = date_field(_("From"))
    date_to = date_field(_("To"))
    status = forms.TypedChoiceField(label=_("Status"), required=False, coerce=int, empty_value=None)
    procedure = forms.TypedChoiceField(label=_("Procedure"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, statuses, procedures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses"))] + list(statuses)
        self.fields["procedure"].choices = [("", _("All procedures"))] + list(procedures)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["date_from"] = data.get("date_from") or today.replace(day=1)
        data["date_to"] = data.get("date_to") or today
        if data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

