"""Base registries: administrative units (đơn vị hành chính) and agencies (cơ quan) with organisation codes."""
import uuid
from dataclasses import dataclass, fields
from datetime import date, time

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.kernel import crypto
from egov.kernel.text import fold
from egov.registries import rules


class AdministrativeUnit(models.Model):
    """Đơn vị hành chính. ``generation`` separates the post-2025 two-level units from the legacy three-level ones,
    whose codes overlap (province ``01`` exists in both).

    Reference data loaded from the pinned ``vietnamadminunits`` package by ``services.load_administrative_units``;
    not edited by hand (the admin is read-only).
    """

    class Generation(models.TextChoices):
        CURRENT = "2025", _("From 1 July 2025 (two levels)")
        LEGACY = "legacy", _("Before 1 July 2025 (three levels)")

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        DISTRICT = "district", _("District")
        COMMUNE = "commune", _("Commune")

    generation = models.CharField(_("generation"), max_length=8, choices=Generation.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    code = models.CharField(_("code"), max_length=5)
    name = models.CharField(_("name"), max_length=120, help_text=_("Official name with its kind, e.g. Phường Hồng Hà"))
    short_name = models.CharField(_("short name"), max_length=120, blank=True, help_text=_("e.g. Hồng Hà"))
    kind = models.CharField(_("kind"), max_length=40, blank=True, help_text=_("e.g. xã, phường, đặc khu, tỉnh"))
    # fold(name): lower case, no diacritics, đ -> d. Kept in a column so that search is one indexed query.
    folded_name = models.CharField(max_length=120, db_index=True, editable=False)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent unit"))

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["generation", "code"]
        constraints = [models.UniqueConstraint(fields=["generation", "code"], name="unique_unit_code_per_generation")]
        indexes = [models.Index(fields=["generation", "level", "folded_name"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.folded_name = fold(self.name)
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        """The name followed by its parents', e.g. "Phường Hồng Hà, Thành phố Hà Nội"."""
        names, unit = [], self
        while unit is not None:
            names.append(unit.name)
            unit = unit.parent
        return ", ".join(names)


class LegacyUnitMapping(models.Model):
    """Old → new: where a pre-2025 unit went on 1 July 2025 (Decision 19/2025 and the merger resolutions).

    ``legacy_unit`` is a legacy commune, or one of the five legacy island districts that had no communes (Bạch Long Vĩ,
    Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo), or a legacy province (then ``new_commune`` is empty). A commune that was split
    has several rows, one of them ``is_default`` (the package's choice when nothing more precise is known).
    """

    legacy_unit = models.ForeignKey(AdministrativeUnit, on_delete=models.CASCADE, related_name="successors",
                                    verbose_name=_("legacy unit"))
    new_commune = models.ForeignKey(AdministrativeUnit, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="predecessors", verbose_name=_("new commune"))
    new_province = models.ForeignKey(AdministrativeUnit, on_delete=models.CASCADE, related_name="province_predecessors",
                                     verbose_name=_("new province"))
    is_default = models.BooleanField(_("default successor"), default=True)

    class Meta:
        verbose_name = _("legacy unit mapping")
        verbose_name_plural = _("legacy unit mappings")
        constraints = [models.UniqueConstraint(fields=["legacy_unit", "new_commune", "new_province"],
                                               name="unique_legacy_mapping")]

    def __str__(self) -> str:
        return f"{self.legacy_unit} → {self.new_commune or self.new_province}"


class Agency(models.Model):
    """Cơ quan, đơn vị: identified by its organisation code (mã định danh, Decision 20/2020, ``DDD.CC.BB.XNN``)."""

    code = models.CharField(_("organisation code"), max_length=13, unique=True,
                            help_text=_("DDD.CC.BB.XNN, e.g. 000.00.00.H29 (a province) or 000.00.18.G12 "
                                        "(a level-2 unit of a ministry)"))
    name = models.CharField(_("name"), max_length=255)
    name_en = models.CharField(_("name in English"), max_length=255, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent agency"))
    administrative_unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, null=True, blank=True,
                                            related_name="agencies", verbose_name=_("administrative unit served"),
                                            limit_choices_to={"generation": AdministrativeUnit.Generation.CURRENT})
    morning_opens = models.TimeField(_("morning opens"), default="07:30")
    morning_closes = models.TimeField(_("morning closes"), default="11:30")
    afternoon_opens = models.TimeField(_("afternoon opens"), default="13:00")
    afternoon_closes = models.TimeField(_("afternoon closes"), default="17:00")
    # Where citizens go and whom they call: shown on every procedure page the agency serves ("where to go").
    address = models.CharField(_("street address"), max_length=300, blank=True,
                               help_text=_("Where citizens come: number, street, ward, province."))
    phone = models.CharField(_("phone number"), max_length=30, blank=True,
                             validators=[RegexValidator(r"^\+?[0-9][0-9 .()-]{5,28}$", _(
                                 "Enter a phone number of digits, with spaces, dots or dashes if you like, "
                                 "e.g. 028 3829 1234 or +84 28 3829 1234."))],
                             help_text=_("The reception desk's number, e.g. 028 3829 1234."))
    is_active = models.BooleanField(_("active"), default=True)
    # fold(name), kept by save(): citizens find an agency by typing part of its name without diacritics.
    folded_name = models.CharField(max_length=255, db_index=True, editable=False, default="")

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.folded_name = fold(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "folded_name"}
        super().save(*args, **kwargs)

    @property
    def level(self) -> int:
        return rules.parse_code(self.code).level

    def clean_fields(self, exclude=None):
        # Normalise before the field validators run (max_length counts the spaces a user pasted): a valid code has
        # only digits, dots and an upper-case G or H.
        if isinstance(self.code, str):
            self.code = self.code.strip().upper()
        super().clean_fields(exclude=exclude)

    def clean(self):
        """Field-level messages for the admin and any ModelForm: the code's format, that it extends the parent's,
        and the order of office hours."""
        errors = {}
        try:
            rules.parse_code(self.code)
        except rules.InvalidCode as exc:
            errors["code"] = exc.message
        else:
            if self.parent_id is not None:
                if self.pk is not None and self.parent_id == self.pk:
                    errors["parent"] = _("An agency cannot be its own parent.")
                else:
                    try:
                        rules.check_child_code(self.code, self.parent.code)
                    except rules.InvalidCode as exc:
                        errors["code"] = exc.message
        if self.administrative_unit_id is not None and self.administrative_unit.generation != \
                AdministrativeUnit.Generation.CURRENT:
            errors["administrative_unit"] = _("Choose a current administrative unit (from 1 July 2025), not a "
                                              "legacy one.")
        hours = [time.fromisoformat(h) if isinstance(h, str) else h
                 for h in (self.morning_opens, self.morning_closes, self.afternoon_opens, self.afternoon_closes)]
        if None not in hours:  # a missing time already has its own "required" message from the form
            try:
                rules.check_office_hours(*hours)
            except rules.InvalidOfficeHours as exc:
                errors.setdefault(exc.field, exc.message)
        if errors:
            raise ValidationError(errors)


# ---------------------------------------------------------------------------------------------------------------
# Population registry (cơ sở dữ liệu quốc gia về dân cư): personal fields sealed, exact lookups by blind index.

@dataclass
class PersonalData:
    """The personal fields of a person, in clear: only ever in memory, sealed in ``Person.sealed`` at rest."""

    personal_id_number: str
    full_name: str
    date_of_birth: date
    sex: str
    nationality: str = "VN"
    ethnicity: str = ""
    birth_registration_place: str = ""
    permanent_residence_unit: str = ""   # commune code (from 2025), see AdministrativeUnit
    permanent_address: str = ""          # house number, street, hamlet
    current_residence_unit: str = ""
    current_address: str = ""
    phone: str = ""
    email: str = ""
    date_of_death: date | None = None

    def to_json(self) -> dict:
        # Every field is a str or a date: a plain dict, not dataclasses.asdict, which deep-copies each value and
        # cost as much as the decryption (measured on the GovStack read).
        data = {name: getattr(self, name) for name in _PERSONAL_FIELDS}
        data["date_of_birth"] = self.date_of_birth.isoformat()
        data["date_of_death"] = self.date_of_death.isoformat() if self.date_of_death else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> "PersonalData":
        data = {k: v for k, v in data.items() if k in _PERSONAL_FIELD_SET}
        data["date_of_birth"] = date.fromisoformat(data["date_of_birth"])
        data["date_of_death"] = date.fromisoformat(data["date_of_death"]) if data.get("date_of_death") else None
        return cls(**data)


_PERSONAL_FIELDS = tuple(f.name for f in fields(PersonalData))
_PERSONAL_FIELD_SET = frozenset(_PERSONAL_FIELDS)


# The blind-indexed fields of a person. "pin" is also the field name of a digital-registry record's link to a person,
# so a record's person_index equals the person's pin_index.
PIN_FIELD = "pin"


def name_dob_key(full_name: str, date_of_birth: date) -> str:
    return f"{full_name}|{date_of_birth.isoformat()}"


class Household(models.Model):
    """Hộ gia đình: persons registered at one permanent residence, with a head (chủ hộ). No personal data here."""

    uid = models.UUIDField(_("reference"), unique=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("household number"), max_length=20, unique=True)
    head = models.ForeignKey("Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("head of household"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.code


class PersonDeletionRefused(Exception):
    """A person is never deleted from the population registry: death is a status."""


class PersonQuerySet(models.QuerySet):
    def delete(self):
        raise PersonDeletionRefused("persons are never deleted from the population registry")


class Person(models.Model):
    """Công dân: one person of the population registry, keyed by the personal identification number.

    Every personal field is in ``sealed`` (AES-256-GCM, envelope keys from settings, bound to ``uid``); exact lookups
    go through keyed blind indexes. A person is never deleted: death is a status. Change it only through
    ``egov.registries.services`` (each life event is a ledger event)."""

    class Status(models.TextChoices):
        LIVING = "living", _("Living")
        DECEASED = "deceased", _("Deceased")

    uid = models.UUIDField(_("reference"), unique=True, default=uuid.uuid4, editable=False)
    sealed = models.TextField(_("personal data (encrypted)"), editable=False)
    key_id = models.CharField(_("key id"), max_length=32, editable=False)
    pin_index = models.CharField(_("personal ID blind index"), max_length=40, unique=True, editable=False)
    name_dob_index = models.CharField(_("name and birth date blind index"), max_length=40, editable=False)
    phone_index = models.CharField(_("phone blind index"), max_length=40, blank=True, editable=False)
    email_index = models.CharField(_("email blind index"), max_length=40, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.LIVING)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, null=True, blank=True, related_name="members",
                                  verbose_name=_("household"))
    father = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("father"))
    mother = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("mother"))
    spouse = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("spouse"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            models.Index(fields=["name_dob_index"], name="registries_person_name_dob"),
            models.Index(fields=["phone_index"], name="registries_person_phone"),
            models.Index(fields=["email_index"], name="registries_person_email"),
            models.Index(fields=["key_id", "id"], name="registries_person_key"),
        ]

    def __str__(self) -> str:
        return f"{_('person')} {self.uid}"

    def delete(self, *args, **kwargs):
        raise PersonDeletionRefused("persons are never deleted from the population registry")

    @property
    def aad(self) -> bytes:
        return f"registries.person:{self.uid}".encode()

    def personal(self) -> PersonalData:
        """Decrypt. Callers are services that log the read (``services.read_person``), never templates directly."""
        return PersonalData.from_json(crypto.open_json(self.sealed, self.aad))

    def seal(self, data: PersonalData, *, key: "crypto.MasterKey | None" = None) -> None:
        key = key or crypto.keyring().active
        self.sealed = crypto.seal_json(data.to_json(), self.aad, key=key)
        self.key_id = key.key_id
        self.pin_index = crypto.blind_index(PIN_FIELD, data.personal_id_number, key=key)
        self.name_dob_index = crypto.blind_index("name_dob", name_dob_key(data.full_name, data.date_of_birth), key=key)
        self.phone_index = crypto.blind_index("phone", data.phone, key=key) if data.phone else ""
        self.email_index = crypto.blind_index("email", data.email, key=key) if data.email else ""


# ---------------------------------------------------------------------------------------------------------------
# Digital registries (GovStack Digital Registries BB): agency-defined registries of sector data.

class Registry(models.Model):
    """Cơ sở dữ liệu chuyên ngành: a registry an agency defines, with a JSON Schema for its records.

    ``kind`` population is the national population registry, served from ``Person`` (protected: no delete, reads
    logged, lookups only on blind-indexed fields). Every other registry keeps ``RegistryRecord`` rows, sealed like
    persons, with blind indexes on the searchable fields. Who may read and write is granted per client system
    (``egov.exchange``); officers of the owning agency may read and write their own registries."""

    class Kind(models.TextChoices):
        RECORDS = "records", _("Records")
        POPULATION = "population", _("Population registry")

    code = models.CharField(_("code"), max_length=50, help_text=_("e.g. ho-kinh-doanh; used in the API address"))
    version = models.CharField(_("version"), max_length=20, default="1.0")
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="registries", verbose_name=_("agency"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.RECORDS)
    schema = models.JSONField(_("record schema (JSON Schema)"), default=dict)
    searchable_fields = models.JSONField(_("searchable fields"), default=list, blank=True)
    person_field = models.CharField(_("field holding a person's ID number"), max_length=64, blank=True,
                                    help_text=_("Reads of records are then shown to that person in their access log."))
    protected = models.BooleanField(_("protected"), default=False,
                                    help_text=_("Records cannot be deleted; every read is logged."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("digital registry")
        verbose_name_plural = _("digital registries")
        ordering = ["code", "version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="registries_registry_code_version")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code} {self.version})"


class RegistryRecord(models.Model):
    """One record of a digital registry: its content sealed, its searchable fields blind-indexed (RecordIndex)."""

    uid = models.UUIDField(_("reference"), unique=True, default=uuid.uuid4, editable=False)
    registry = models.ForeignKey(Registry, on_delete=models.PROTECT, related_name="records",
                                 verbose_name=_("registry"))
    sealed = models.TextField(_("content (encrypted)"), editable=False)
    key_id = models.CharField(_("key id"), max_length=32, editable=False)
    person_index = models.CharField(_("person blind index"), max_length=40, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("registry record")
        verbose_name_plural = _("registry records")
        indexes = [
            models.Index(fields=["registry", "id"], name="registries_record_reg_id"),
            models.Index(fields=["person_index"], name="registries_record_person"),
            models.Index(fields=["key_id", "id"], name="registries_record_key"),
        ]

    def __str__(self) -> str:
        return str(self.uid)

    @property
    def aad(self) -> bytes:
        return f"registries.record:{self.uid}".encode()

    def content(self) -> dict:
        return crypto.open_json(self.sealed, self.aad)


class RecordIndex(models.Model):
    """A blind index of one searchable field of one record (exact lookups without the value in clear)."""

    record = models.ForeignKey(RegistryRecord, on_delete=models.CASCADE, related_name="indexes")
    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=64)
    value_index = models.CharField(max_length=40)

    class Meta:
        verbose_name = _("record index")
        verbose_name_plural = _("record indexes")
        indexes = [models.Index(fields=["registry", "field", "value_index"], name="registries_recidx_lookup")]
        constraints = [models.UniqueConstraint(fields=["record", "field"], name="registries_recidx_record_field")]


# ---------------------------------------------------------------------------------------------------------------
# Enterprise registry (cơ sở dữ liệu quốc gia về đăng ký doanh nghiệp): public business data, not sealed. The only
# personal element is the legal representative, a reference to their record in the population registry.

class Enterprise(models.Model):
    """Doanh nghiệp: keyed by its enterprise code (the tax code, ``rules.parse_enterprise_code``).

    Name, address and code are published business data, so they are stored in clear and may appear in ledger
    payloads; who the legal representative is stays a reference to a ``Person``. Change it only through
    ``egov.registries.services`` (each change is a ledger event)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        DISSOLVED = "dissolved", _("Dissolved")

    code = models.CharField(_("enterprise code"), max_length=14, unique=True,
                            help_text=_("The 10-digit tax code, e.g. 0100109106"))
    name = models.CharField(_("name"), max_length=255)
    name_en = models.CharField(_("name in English"), max_length=255, blank=True)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    head_office_unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="enterprises",
                                         verbose_name=_("head office commune"),
                                         limit_choices_to={"generation": AdministrativeUnit.Generation.CURRENT,
                                                           "level": AdministrativeUnit.Level.COMMUNE})
    head_office_address = models.CharField(_("head office street address"), max_length=255,
                                           help_text=_("House number, street, hamlet"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    legal_representative = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="represented_enterprises",
                                             verbose_name=_("legal representative"))
    registered_at = models.DateTimeField(_("registered at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["code"]
        indexes = [models.Index(fields=["legal_representative", "status"], name="registries_ent_rep_status")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def head_office(self) -> str:
        """The street address followed by the commune and province, e.g. "1 Lê Duẩn, Phường Sài Gòn, Thành phố Hồ
        Chí Minh"."""
        return ", ".join(part for part in (self.head_office_address, self.head_office_unit.full_name) if part)
