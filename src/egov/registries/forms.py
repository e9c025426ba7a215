"""Forms of the registry pages: they parse what was typed; the rules and the decisions are in ``services``.

A service refusal names the field it is about (``RegistryError.field``); ``show_service_error`` puts its message
beside that field, so the person sees what to fix without losing anything they entered.
"""
import json

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from egov.exchange.models import ClientSystem
from egov.registries import rules
from egov.registries.models import Agency


class ServiceErrorsMixin:
    """Put a service's refusal beside the field it names (``service_fields`` maps service names to form fields)."""

    service_fields: dict[str, str] = {}

    def show_service_error(self, exc) -> None:
        name = self.service_fields.get(exc.field, exc.field)
        self.add_error(name if name in self.fields else None, exc.message)


# --- Person look-up -----------------------------------------------------------------------------------------------

class Purpose:
    """Common reasons an officer reads a person's data. The person reads the chosen text in their access log."""

    DOSSIER = "dossier"
    IDENTITY = "identity"
    CIVIL_STATUS = "civil_status"
    RESIDENCE = "residence"
    INSPECTION = "inspection"
    OTHER = "other"

    LABELS = {
        DOSSIER: _("Processing a dossier"),
        IDENTITY: _("Checking an applicant's identity at the desk"),
        CIVIL_STATUS: _("Civil status registration"),
        RESIDENCE: _("Residence registration"),
        INSPECTION: _("Inspection or complaint handling"),
        OTHER: _("Other (describe it below)"),
    }
    # These need the details: the dossier's code, or the description of the other purpose.
    NEEDS_DETAILS = {DOSSIER, OTHER}


PURPOSE_MAX_LENGTH = 200   # what services.find_person accepts
DETAILS_MAX_LENGTH = 120   # leaves room for the longest label and ": " within PURPOSE_MAX_LENGTH


class PersonLookupForm(ServiceErrorsMixin, forms.Form):
    """Tra cứu công dân: by identification number, or by full name and date of birth; always with a purpose."""

    personal_id_number = forms.CharField(
        label=_("Personal identification number"), required=False, max_length=20, strip=True,
        help_text=_("12 digits, e.g. 001099012345. Or leave it empty and give the full name and date of birth."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}))
    full_name = forms.CharField(label=_("Full name"), required=False, max_length=150, strip=True,
                                help_text=_("As registered, with diacritics, e.g. Đỗ Thị Hà."),
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    # A text field, not type="date": browsers show a native date field in their own order (often month first),
    # while officers read and type dates day first, as on every Vietnamese document.
    date_of_birth = forms.DateField(
        label=_("Date of birth"), required=False, input_formats=["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"],
        help_text=_("Day/month/year, e.g. 17/05/2003."),
        error_messages={"invalid": _("Enter the date as day/month/year, e.g. 17/05/2003.")},
        widget=forms.DateInput(attrs={"autocomplete": "off", "spellcheck": "false"}, format="%d/%m/%Y"))
    purpose_kind = forms.ChoiceField(
        label=_("Purpose of the look-up"), choices=[("", _("Choose the purpose"))] + list(Purpose.LABELS.items()),
        help_text=_("Required by law. The person sees the purpose, your agency and your role in their access log."),
        error_messages={"required": _("Choose why you need this person's data.")})
    purpose_details = forms.CharField(
        label=_("Dossier code or details"), required=False, max_length=DETAILS_MAX_LENGTH, strip=True,
        help_text=_("For a dossier, its code (e.g. 000.00.12.H29-260115-0001); for another purpose, a short "
                    "description. Do not write anyone's personal data here."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}))

    service_fields = {"purpose": "purpose_details"}

    def clean_personal_id_number(self) -> str:
        # The registry's own rule, checked here too so that every mistake shows in one round.
        number = self.cleaned_data["personal_id_number"].replace(" ", "")
        if number:
            try:
                rules.parse_personal_id(number)
            except rules.InvalidPersonalId as exc:
                raise forms.ValidationError(exc.message, code=exc.rule) from None
        return number

    def clean(self):
        data = super().clean()
        number = data.get("personal_id_number", "")
        name, born = data.get("full_name", ""), data.get("date_of_birth")
        if not number and "date_of_birth" not in self.errors:
            if not name and not born:
                self.add_error("personal_id_number", _("Enter the identification number, or the full name and the "
                                                       "date of birth."))
            elif not name:
                self.add_error("full_name", _("Enter the full name too: a date of birth alone is not enough."))
            elif not born:
                self.add_error("date_of_birth", _("Enter the date of birth too: a name alone is not enough."))
        kind = data.get("purpose_kind")
        if kind in Purpose.NEEDS_DETAILS and not data.get("purpose_details"):
            self.add_error("purpose_details", _("Enter the dossier code.") if kind == Purpose.DOSSIER
                           else _("Describe the purpose."))
        return data

    def search_terms(self) -> dict:
        """The keyword arguments of ``services.find_person`` that say whom to find (the number wins if given)."""
        data = self.cleaned_data
        if data["personal_id_number"]:
            return {"personal_id_number": data["personal_id_number"]}
        return {"full_name": data["full_name"], "date_of_birth": data["date_of_birth"]}

    def purpose(self) -> str:
        """The purpose as recorded: the chosen reason and the details, in the platform's language (Vietnamese), so
        the person reads the same words whatever language the officer's screen was in."""
        kind, details = self.cleaned_data["purpose_kind"], self.cleaned_data.get("purpose_details", "")
        if kind == Purpose.OTHER:
            return details
        with translation.override(settings.LANGUAGE_CODE):
            label = str(Purpose.LABELS[kind])
        return f"{label}: {details}" if details else label

    def show_service_error(self, exc) -> None:
        if exc.field == "purpose" and not self.cleaned_data.get("purpose_details"):
            self.add_error("purpose_kind", exc.message)
            return
        super().show_service_error(exc)


# --- Registry definitions -------------------------------------------------------------------------------------------

SCHEMA_EXAMPLE = json.dumps({
    "type": "object",
    "properties": {
        "license_number": {"type": "string"},
        "business_name": {"type": "string"},
        "owner_personal_id": {"type": "string", "pattern": "^[0-9]{12}$"},
        "issued_on": {"type": "string", "format": "date"},
        "capital_vnd": {"type": "integer", "minimum": 0},
    },
    "required": ["license_number", "business_name", "owner_personal_id"],
}, indent=2)


class ClientChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ClientSystem) -> str:
        return f"{obj.name} ({obj.identifier})"


def client_field(label, help_text) -> ClientChoiceField:
    return ClientChoiceField(label=label, help_text=help_text, required=False, widget=forms.CheckboxSelectMultiple,
                             queryset=ClientSystem.objects.filter(is_active=True).order_by("identifier"))


class RegistryGrantsForm(forms.Form):
    """Which client systems (of any agency) may read and write a registry's records through the API."""

    readers = client_field(_("Client systems that may read"),
                           _("They read records through the Digital Registries API; each read is logged."))
    writers = client_field(_("Client systems that may write"),
                           _("They create and change records through the API."))


# Python's JSON parser explains in English; the usual problems, in words the person's language has.
JSON_PROBLEMS = {
    "Expecting value": _("a value is expected (a string in double quotes, a number, true, false, null, an object or "
                         "a list)"),
    "Expecting property name enclosed in double quotes": _("a property name in double quotes is expected (is there a "
                                                           "comma too many, or single quotes?)"),
    "Expecting ',' delimiter": _("a comma is missing"),
    "Expecting ':' delimiter": _("a colon is missing after the property name"),
    "Extra data": _("there is more text after the end of the schema"),
    "Unterminated string starting at": _("a string is not closed with a double quote"),
    "Invalid control character at": _("a string holds a line break or tab: write it as \\n or \\t"),
    "Invalid \\escape": _("a backslash starts an escape JSON does not know"),
    "Illegal trailing comma before end of object": _("there is a comma before the closing brace"),
    "Illegal trailing comma before end of array": _("there is a comma before the closing bracket"),
}


def json_problem(message: str) -> str:
    return str(JSON_PROBLEMS.get(message, message))


def split_names(text: str) -> list[str]:
    """"a, b c" -> ["a", "b", "c"]: property names separated by commas or spaces, duplicates dropped."""
    names = []
    for name in text.replace(",", " ").split():
        if name not in names:
            names.append(name)
    return names


class RegistryForm(ServiceErrorsMixin, RegistryGrantsForm):
    """Định nghĩa cơ sở dữ liệu chuyên ngành: what ``services.define_registry`` needs, then who may use it."""

    agency_code = forms.CharField(
        label=_("Organisation code of the owning agency"), max_length=13, strip=True,
        help_text=_("The agency that owns the registry, e.g. 000.00.12.H29."))
    code = forms.CharField(
        label=_("Code"), max_length=50, strip=True,
        help_text=_("3-50 lower-case letters, digits and hyphens, starting with a letter, e.g. ho-kinh-doanh. It is "
                    "part of the API address and cannot change."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}))
    version = forms.CharField(label=_("Version"), max_length=20, strip=True, initial="1.0",
                              help_text=_("Numbers separated by dots, e.g. 1.0."),
                              widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    name = forms.CharField(label=_("Registry name"), max_length=255, strip=True,
                           help_text=_("e.g. Sổ đăng ký hộ kinh doanh."))
    description = forms.CharField(label=_("Description"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("What the registry holds and under which law."))
    schema = forms.CharField(
        label=_("Record schema (JSON Schema)"), strip=False,
        help_text=_("One record is a JSON object: describe its properties in JSON Schema (draft 2020-12). See the "
                    "example below."),
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "autocapitalize": "none", "class": "code"}),
        error_messages={"required": _("Enter the schema of the records.")})
    searchable_fields = forms.CharField(
        label=_("Searchable fields"), required=False, max_length=1000, strip=True,
        help_text=_("Property names that records can be looked up by exactly, separated by commas, e.g. "
                    "license_number, owner_personal_id."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}))
    person_field = forms.CharField(
        label=_("Field holding a person's identification number"), required=False, max_length=64, strip=True,
        help_text=_("Reads of a record are then shown to that person in their access log, e.g. owner_personal_id."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}))
    protected = forms.BooleanField(label=_("Protected: records are never deleted and every read is logged"),
                                   required=False)

    field_order = ["agency_code", "code", "version", "name", "description", "schema", "searchable_fields",
                   "person_field", "protected", "readers", "writers"]

    def __init__(self, *args, choose_agency: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not choose_agency:  # an agency admin defines registries of their own agency only
            del self.fields["agency_code"]

    def clean_agency_code(self) -> Agency:
        code = self.cleaned_data["agency_code"].upper()
        agency = Agency.objects.filter(code=code, is_active=True).first()
        if agency is None:
            raise forms.ValidationError(_("No active agency has the organisation code %(code)s."),
                                        params={"code": code}, code="unknown")
        return agency

    def clean_schema(self) -> dict:
        text = self.cleaned_data["schema"]
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("The schema is not valid JSON: %(problem)s at line %(line)d, column %(column)d."),
                params={"problem": json_problem(exc.msg), "line": exc.lineno, "column": exc.colno},
                code="json") from None
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if isinstance(properties, dict):
            # Records are looked up and shown by their properties' types: each needs a description of its own.
            for name, definition in properties.items():
                if not isinstance(definition, dict):
                    raise forms.ValidationError(
                        _("Describe property “%(name)s” with a JSON object, e.g. {\"type\": \"string\"}."),
                        params={"name": name}, code="property")
        return schema

    def clean_searchable_fields(self) -> list[str]:
        return split_names(self.cleaned_data["searchable_fields"])

    def definition(self) -> dict:
        """The keyword arguments of ``services.define_registry`` (without the caller and the agency)."""
        data = self.cleaned_data
        return {name: data[name] for name in ("code", "version", "name", "description", "schema", "searchable_fields",
                                              "person_field", "protected")}
