"""State changes of the base registries. Each function is one business action with its transaction inside."""
import importlib.util
import json
import math
import secrets
import sqlite3
import time
import dataclasses
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from egov.kernel import crypto, ledger, ratelimit
from egov.kernel.text import has_control_characters
from egov.kernel.db import write_group
from egov.kernel.access import Caller, Denied
from egov.kernel.text import fold
from egov.registries import queries, rules
from egov.registries.models import (
    PIN_FIELD, AdministrativeUnit, Agency, Household, LegacyUnitMapping, PersonalData, Person, RecordIndex, Registry,
    RegistryRecord, name_dob_key,
)
from egov.registries.signals import person_deceased

Unit = AdministrativeUnit
CURRENT, LEGACY = Unit.Generation.CURRENT, Unit.Generation.LEGACY
PROVINCE, DISTRICT, COMMUNE = Unit.Level.PROVINCE, Unit.Level.DISTRICT, Unit.Level.COMMUNE



def _package_dir() -> Path:
    # find_spec locates the package without importing it: its __init__ loads parsers, shapely and geopy (1.5 s).
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _rows(sql: str) -> list[sqlite3.Row]:
    """Read the package's own SQLite data set directly: its Python API parses one address at a time (and its
    converter may geocode over the network), which is far too slow, and not allowed, for a bulk load."""
    with sqlite3.connect(f"file:{_package_dir() / 'data' / 'dataset.db'}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql).fetchall()


def _kind(full_name: str, short_name: str) -> str:
    """"Thành phố Hà Nội" minus "Hà Nội" -> "thành phố"."""
    prefix = full_name[: len(full_name) - len(short_name)] if full_name.endswith(short_name) else ""
    return prefix.strip().lower()


@dataclass
class PackageUnits:
    """The units and mappings as the pinned package gives them, ready to upsert."""

    current_provinces: dict  # code -> (name, short, kind)
    current_communes: dict  # code -> (name, short, kind, province code)
    legacy_provinces: dict
    legacy_districts: dict  # code -> (name, short, kind, province code)
    legacy_communes: dict  # code -> (name, short, kind, district code)
    # (legacy level, legacy code, new commune code or None, new province code, is_default)
    mappings: list

    def counts(self) -> dict:
        return {
            "current_provinces": len(self.current_provinces), "current_communes": len(self.current_communes),
            "legacy_provinces": len(self.legacy_provinces), "legacy_districts": len(self.legacy_districts),
            "legacy_communes": len(self.legacy_communes), "mappings": len(self.mappings),
        }


def read_package_units() -> PackageUnits:
    current_provinces, current_communes, new_key_to_code, new_province_key_to_code = {}, {}, {}, {}
    for r in _rows("SELECT province, provinceShort, provinceCode, provinceKey, ward, wardShort, wardType, wardCode, "
                   "wardKey FROM admin_units"):
        current_provinces[r["provinceCode"]] = (r["province"], r["provinceShort"],
                                                _kind(r["province"], r["provinceShort"]))
        current_communes[r["wardCode"]] = (r["ward"], r["wardShort"], r["wardType"].lower(), r["provinceCode"])
        new_key_to_code[(r["provinceKey"], r["wardKey"])] = r["wardCode"]
        new_province_key_to_code[r["provinceKey"]] = r["provinceCode"]

    legacy_provinces, legacy_districts, legacy_communes, old_key_to_unit, old_province_key_to_code = {}, {}, {}, {}, {}
    for r in _rows("SELECT province, provinceShort, provinceCode, provinceKey, district, districtShort, districtType, "
                   "districtCode, districtKey, ward, wardShort, wardType, wardCode, wardKey FROM admin_units_legacy"):
        legacy_provinces[r["provinceCode"]] = (r["province"], r["provinceShort"],
                                               _kind(r["province"], r["provinceShort"]))
        legacy_districts[r["districtCode"]] = (r["district"], r["districtShort"], r["districtType"].lower(),
                                               r["provinceCode"])
        old_province_key_to_code[r["provinceKey"]] = r["provinceCode"]
        key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        if r["wardCode"]:
            legacy_communes[r["wardCode"]] = (r["ward"], r["wardShort"], r["wardType"].lower(), r["districtCode"])
            old_key_to_unit[key] = (COMMUNE, r["wardCode"])
        else:  # the five island districts without communes map as a whole
            old_key_to_unit[key] = (DISTRICT, r["districtCode"])

    with open(_package_dir() / "data" / "converter_2025.json", encoding="utf-8") as f:
        converter = json.load(f)
    mappings = []
    for new_province_key, old_province_keys in converter["DICT_PROVINCE"].items():
        for old_key in old_province_keys:
            mappings.append((PROVINCE, old_province_key_to_code[old_key], None,
                             new_province_key_to_code[new_province_key], True))
    for new_province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        province_code = new_province_key_to_code[new_province_key]
        for new_ward_key, old_keys in wards.items():
            for old_key in old_keys:
                mappings.append((*old_key_to_unit[old_key], new_key_to_code[(new_province_key, new_ward_key)],
                                 province_code, True))
    for new_province_key, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        province_code = new_province_key_to_code[new_province_key]
        for old_key, new_wards in divided.items():
            for ward in new_wards:
                mappings.append((*old_key_to_unit[old_key], new_key_to_code[(new_province_key, ward["newWardKey"])],
                                 province_code, bool(ward["isDefaultNewWard"])))
    return PackageUnits(current_provinces, current_communes, legacy_provinces, legacy_districts, legacy_communes,
                        mappings)


def _database_counts() -> dict:
    def units(generation, level):
        return Unit.objects.filter(generation=generation, level=level).count()

    return {
        "current_provinces": units(CURRENT, PROVINCE), "current_communes": units(CURRENT, COMMUNE),
        "legacy_provinces": units(LEGACY, PROVINCE), "legacy_districts": units(LEGACY, DISTRICT),
        "legacy_communes": units(LEGACY, COMMUNE), "mappings": LegacyUnitMapping.objects.count(),
    }


def _upsert(generation: str, level: str, rows: dict, parent_ids: dict | None) -> dict:
    """Insert or update one level's units; return {code: id}.

    One prepared INSERT … ON CONFLICT DO UPDATE run with executemany (the same SQL on SQLite and PostgreSQL):
    bulk_create compiles every row's placeholders in Python, which made the load three times slower.
    """
    table = connection.ops.quote_name(Unit._meta.db_table)
    columns = ["generation", "level", "code", "name", "short_name", "kind", "folded_name", "parent_id"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("generation", "code"))
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
           f"ON CONFLICT (generation, code) DO UPDATE SET {updates}")
    params = [(generation, level, code, name, short_name, kind, fold(name), parent_ids[parent[0]] if parent_ids else None)
              for code, (name, short_name, kind, *parent) in rows.items()]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return dict(Unit.objects.filter(generation=generation, level=level).values_list("code", "id"))


@dataclass
class LoadResult:
    loaded: bool  # False when the database already matched the package and nothing was written
    counts: dict


def load_administrative_units(*, force: bool = False) -> LoadResult:
    """Load the post-2025 and legacy administrative units and the old → new mapping from the pinned package.

    Idempotent: units are upserted by (generation, code); mappings are rebuilt. When every count already matches the
    package (the usual second run), nothing is written unless ``force``. Units the package no longer lists are kept,
    since agencies and old records may still refer to them.
    """
    package = read_package_units()
    expected = package.counts()
    if not force and _database_counts() == expected:
        return LoadResult(loaded=False, counts=expected)
    with transaction.atomic():
        current_provinces = _upsert(CURRENT, PROVINCE, package.current_provinces, None)
        current_communes = _upsert(CURRENT, COMMUNE, package.current_communes, current_provinces)
        legacy_provinces = _upsert(LEGACY, PROVINCE, package.legacy_provinces, None)
        legacy_districts = _upsert(LEGACY, DISTRICT, package.legacy_districts, legacy_provinces)
        legacy_communes = _upsert(LEGACY, COMMUNE, package.legacy_communes, legacy_districts)
        legacy_ids = {PROVINCE: legacy_provinces, DISTRICT: legacy_districts, COMMUNE: legacy_communes}
        # Mappings are derived data with nothing pointing at them: rebuilding is simpler than diffing.
        LegacyUnitMapping.objects.all().delete()
        table = connection.ops.quote_name(LegacyUnitMapping._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (legacy_unit_id, new_commune_id, new_province_id, is_default) "
                "VALUES (%s, %s, %s, %s)",
                [(legacy_ids[level][code], current_communes[new_code] if new_code else None,
                  current_provinces[province_code], is_default)
                 for level, code, new_code, province_code, is_default in package.mappings])
        ledger.append("registries.units_loaded", partition="platform", payload={"counts": expected, "source": (
            "vietnamadminunits " + _package_version())})
    return LoadResult(loaded=True, counts=expected)


def _package_version() -> str:
    from importlib.metadata import version

    return version("vietnamadminunits")


# --- Agencies -------------------------------------------------------------------------------------------------------

# Facts recorded in agency events. Names are left out: the event's subject points at the row, and the ledger's payload
# guard keeps "name"-like keys out of every payload.
_AGENCY_FACTS = ["code", "parent_id", "administrative_unit_id", "morning_opens", "morning_closes", "afternoon_opens",
                 "afternoon_closes", "is_active"]
# The office's address and phone are public, but the ledger's guard keeps such keys out of every payload: named only.
_AGENCY_FIELDS = _AGENCY_FACTS + ["name", "name_en", "address", "phone"]


def _agency_values(agency: Agency) -> dict:
    return {field: (str(value) if value is not None else None)
            for field in _AGENCY_FIELDS for value in [getattr(agency, field)]}


@transaction.atomic
def save_agency(agency: Agency, *, actor=None) -> Agency:
    """Create or change an agency (cơ quan). Validates like the admin form does (``full_clean``: code format, code
    extends the parent's, office hours), then records ``agency.created`` or ``agency.changed`` in the ledger,
    partitioned by the agency's code. Raises ValidationError with field messages on bad input."""
    agency.full_clean()
    if agency.pk is None:
        agency.save()
        values = _agency_values(agency)
        ledger.append("agency.created", partition=agency.code, actor=actor, subject=agency,
                      payload={k: values[k] for k in _AGENCY_FACTS})
        return agency
    before = _agency_values(Agency.objects.select_for_update().get(pk=agency.pk))
    agency.save()
    after = _agency_values(agency)
    changed = sorted(k for k in after if before[k] != after[k])
    if changed:
        ledger.append("agency.changed", partition=agency.code, actor=actor, subject=agency,
                      payload={"changed_fields": changed,
                               "values": {k: after[k] for k in changed if k in _AGENCY_FACTS}})
    return agency


# ===============================================================================================================
# Population registry: life events and logged reads. Every function takes the Caller who acts and checks its rights
# here, server-side; every change and every read of a person's data is a ledger event (with its purpose, for reads).

class RegistryError(Exception):
    """A business refusal; ``status`` maps it to HTTP (400 bad input, 403 denied, 404, 409 conflict, 429 limited)."""

    status = 400

    def __init__(self, message, *, field: str = "", rule: str = ""):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.rule = rule


class InvalidInput(RegistryError):
    status = 422


class NotFound(RegistryError):
    status = 404


class Conflict(RegistryError):
    status = 409


class RateLimited(RegistryError):
    status = 429

    def __init__(self, message, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _deny(reason) -> None:
    raise Denied(reason)


def _require(caller: Caller, right: str, reason) -> None:
    if not caller.may(right):
        _deny(reason)


def _parse_pin(number: str, field: str = "personal_id_number") -> rules.PersonalId:
    """``rules.parse_personal_id`` with its failure as an InvalidInput naming ``field``."""
    try:
        return rules.parse_personal_id(number)
    except rules.InvalidPersonalId as exc:
        raise InvalidInput(exc.message, field=field, rule=exc.rule) from None


def _current_communes(codes: set[str]) -> set[str]:
    """Which of ``codes`` are current commune codes: one query for any number of codes."""
    if not codes:
        return set()
    return set(AdministrativeUnit.objects.filter(generation=CURRENT, level=COMMUNE, code__in=codes)
               .values_list("code", flat=True))


def _residence_units(data: PersonalData) -> set[str]:
    return {code for code in (data.permanent_residence_unit, data.current_residence_unit) if code}


def validate_personal_data(data: PersonalData, *, known_units: set[str] | None = None) -> None:
    """Every rule of the population registry, each failure naming its field and rule. ``known_units``: the current
    commune codes already looked up for a whole batch (``import_persons``); otherwise they are looked up here."""
    if not (data.full_name or "").strip():
        raise InvalidInput(_("Enter the full name."), field="full_name", rule="required")
    if len(data.full_name) > 150:
        raise InvalidInput(_("A full name has at most 150 characters."), field="full_name", rule="length")
    if data.sex not in rules.Sex.values:
        raise InvalidInput(_("Sex must be male or female."), field="sex", rule="sex")
    if data.date_of_birth > timezone.localdate():
        raise InvalidInput(_("The date of birth cannot be in the future."), field="date_of_birth", rule="future")
    try:
        rules.check_personal_id(data.personal_id_number, date_of_birth=data.date_of_birth, sex=data.sex)
    except rules.InvalidPersonalId as exc:
        raise InvalidInput(exc.message, field="personal_id_number", rule=exc.rule) from None
    if known_units is None:
        known_units = _current_communes(_residence_units(data))
    for field in ("permanent_residence_unit", "current_residence_unit"):
        code = getattr(data, field)
        if code and code not in known_units:
            raise InvalidInput(_("%(code)s is not a current commune code (5 digits, from 1 July 2025).")
                               % {"code": code}, field=field, rule="unit")
    if data.email and not rules_email(data.email):
        raise InvalidInput(_("Enter a valid email address."), field="email", rule="email")
    if data.phone and not (data.phone.lstrip("+").isdigit() and 9 <= len(data.phone.lstrip("+")) <= 15):
        raise InvalidInput(_("Enter a phone number of 9 to 15 digits."), field="phone", rule="phone")
    if data.date_of_death and data.date_of_death < data.date_of_birth:
        raise InvalidInput(_("The date of death cannot be before the date of birth."), field="date_of_death",
                           rule="order")


def rules_email(value: str) -> bool:
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    try:
        validate_email(value)
    except DjangoValidationError:
        return False
    return True


def _person_event(event_type: str, person: Person, caller: Caller, payload: dict | None = None) -> None:
    ledger.append(event_type, partition=caller.partition, actor=caller.actor, subject=person,
                  payload={"registry": rules.POPULATION_REGISTRY, **(payload or {})})


def _require_registrar(caller: Caller) -> None:
    _require(caller, "population.register", _("Only civil-status and residence officers may change the population "
                                              "registry."))


def _pin_taken(number: str) -> bool:
    return Person.objects.filter(pin_index__in=crypto.blind_indexes(PIN_FIELD, number)).exists()


@transaction.atomic
def register_person(data: PersonalData, *, caller: Caller, household: Household | None = None,
                    father: Person | None = None, mother: Person | None = None) -> Person:
    """Enter an existing person (first load, migration from an older registry): number already issued."""
    _require_registrar(caller)
    validate_personal_data(data)
    if _pin_taken(data.personal_id_number):
        raise Conflict(_("A person with this identification number is already registered."),
                       field="personal_id_number", rule="unique")
    person = Person(household=household, father=father, mother=mother)
    person.seal(data)
    person.save()
    _person_event("person.registered", person, caller)
    return person


def _random_pin(province_code: str, date_of_birth, sex: str) -> str:
    return rules.compose_personal_id(province_code, date_of_birth, sex, secrets.randbelow(1_000_000))


@transaction.atomic
def register_birth(*, caller: Caller, full_name: str, date_of_birth, sex: str, birth_province_code: str,
                   birth_registration_place: str = "", father: Person | None = None, mother: Person | None = None,
                   household: Household | None = None, residence_unit: str = "", address: str = "",
                   nationality: str = "VN", ethnicity: str = "") -> Person:
    """Đăng ký khai sinh: a new person with a newly allocated, unique, valid identification number."""
    _require_registrar(caller)
    data = PersonalData(personal_id_number="", full_name=full_name, date_of_birth=date_of_birth, sex=sex,
                        nationality=nationality, ethnicity=ethnicity, birth_registration_place=birth_registration_place,
                        permanent_residence_unit=residence_unit, permanent_address=address,
                        current_residence_unit=residence_unit, current_address=address)
    try:
        rules.compose_personal_id(birth_province_code, date_of_birth, sex, 0)
    except rules.InvalidPersonalId as exc:
        raise InvalidInput(exc.message, field="birth_province_code", rule=exc.rule) from None
    for _attempt in range(20):  # 10^6 numbers per province, sex and year: a collision is rare, twenty in a row absurd
        number = _random_pin(birth_province_code, date_of_birth, sex)
        if _pin_taken(number):
            continue
        data.personal_id_number = number
        validate_personal_data(data)
        person = Person(household=household, father=father, mother=mother)
        person.seal(data)
        try:
            with transaction.atomic():
                person.save()
        except IntegrityError:
            continue  # allocated concurrently by another registration: draw again
        _person_event("person.birth_registered", person, caller)
        return person
    raise Conflict(_("No free identification number could be allocated; try again."), rule="allocation")


def _locked(person_uid) -> Person:
    person = Person.objects.select_for_update().filter(uid=person_uid).first()
    if person is None:
        raise NotFound(_("No such person in the population registry."))
    return person


def _reseal(person: Person, data: PersonalData) -> None:
    validate_personal_data(data)
    person.seal(data)
    person.version += 1
    person.save()


@transaction.atomic
def register_death(person_uid, *, caller: Caller, date_of_death) -> Person:
    """Đăng ký khai tử: the person's status becomes deceased and their accounts are disabled (same transaction)."""
    _require_registrar(caller)
    person = _locked(person_uid)
    if person.status == Person.Status.DECEASED:
        raise Conflict(_("This person's death is already registered."), rule="deceased")
    data = person.personal()
    if date_of_death > timezone.localdate():
        raise InvalidInput(_("The date of death cannot be in the future."), field="date_of_death", rule="future")
    data.date_of_death = date_of_death
    person.status = Person.Status.DECEASED
    _reseal(person, data)
    _person_event("person.death_registered", person, caller)
    person_deceased.send(sender=Person, person=person, caller=caller)
    return person


@transaction.atomic
def change_residence(person_uid, *, caller: Caller, residence_unit: str, address: str, permanent: bool = False) -> Person:
    """Đăng ký thường trú / tạm trú: a new current (or permanent) residence."""
    _require_registrar(caller)
    person = _locked(person_uid)
    if person.status == Person.Status.DECEASED:
        raise Conflict(_("A deceased person's residence cannot change."), rule="deceased")
    data = person.personal()
    if not (residence_unit or "").strip():
        raise InvalidInput(_("Choose the commune of the new residence."), field="residence_unit", rule="required")
    data.current_residence_unit, data.current_address = residence_unit.strip(), address.strip()
    if permanent:
        data.permanent_residence_unit, data.permanent_address = residence_unit.strip(), address.strip()
    _reseal(person, data)
    _person_event("person.residence_changed", person, caller, {"permanent": permanent})
    return person


CORRECTABLE_FIELDS = ("full_name", "date_of_birth", "sex", "nationality", "ethnicity", "birth_registration_place",
                      "permanent_address", "current_address", "phone", "email")


@transaction.atomic
def correct(person_uid, *, caller: Caller, changes: dict, reason_code: str) -> Person:
    """Cải chính: correct recorded fields (the identification number itself is never reissued here)."""
    _require_registrar(caller)
    unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise InvalidInput(_("These fields cannot be corrected here: %(fields)s.") % {"fields": ", ".join(unknown)},
                           field=unknown[0], rule="field")
    if not changes:
        raise InvalidInput(_("Say what to correct."), rule="required")
    if not (reason_code or "").strip() or len(reason_code) > 100:
        raise InvalidInput(_("Give the reason of the correction (the decision's number)."), field="reason_code",
                           rule="required")
    person = _locked(person_uid)
    data = person.personal()
    for name, value in changes.items():
        setattr(data, name, value)
    _reseal(person, data)
    _person_event("person.corrected", person, caller, {"fields": sorted(changes), "reason_code": reason_code.strip()})
    return person


# --- Reads ---------------------------------------------------------------------------------------------------

def _check_purpose(purpose: str) -> str:
    purpose = " ".join((purpose or "").split())
    if not purpose:
        raise InvalidInput(_("Say why you need this person's data (the purpose is shown to the person)."),
                           field="purpose", rule="required")
    if len(purpose) > 200:
        raise InvalidInput(_("Keep the purpose under 200 characters."), field="purpose", rule="length")
    try:
        ledger.check_payload({"purpose": purpose})
    except ledger.PersonalDataError:
        raise InvalidInput(_("The purpose must not contain personal data such as an email address."),
                           field="purpose", rule="personal") from None
    return purpose


def _may_read_person(caller: Caller, person: Person) -> None:
    if caller.kind == "citizen":
        if caller.person_id != person.pk:
            _deny(_("You can read only your own record."))
        return
    if caller.kind == "client":
        _require(caller, rules.registry_right(rules.POPULATION_REGISTRY, "read"),
                 _("This client system has no right to read the population registry."))
        return
    _require(caller, "population.lookup", _("Only agency officers may look persons up."))


def read_person(person: Person, *, caller: Caller, purpose: str, via: str = "web") -> PersonalData:
    """The person's data for ``caller``, logged with its purpose (the person sees it in their access log)."""
    _may_read_person(caller, person)
    if caller.kind == "citizen":
        purpose = purpose or "own record"
    purpose = _check_purpose(purpose)
    data = person.personal()
    _person_event("person.read", person, caller, {"purpose": purpose, "via": via, **reader_facts(caller)})
    return data


def reader_facts(caller: Caller) -> dict:
    """Who read, as non-personal facts kept in the event: agency code, role or client system identifier."""
    facts = {"reader_kind": caller.kind}
    if caller.agency_code:
        facts["reader_agency"] = caller.agency_code
    if caller.role:
        facts["reader_role"] = caller.role
    if caller.kind == "client" and caller.label:
        facts["reader_system"] = caller.label
    return facts


def find_person(*, caller: Caller, purpose: str, personal_id_number: str = "", full_name: str = "",
                date_of_birth=None, phone: str = "", email: str = "", via: str = "web") -> tuple[Person, PersonalData]:
    """Look one person up by an exact blind-indexed key, and read them (logged). Raises NotFound."""
    if caller.kind != "citizen":
        _require(caller, "population.lookup" if caller.kind == "officer"
                 else rules.registry_right(rules.POPULATION_REGISTRY, "read"),
                 _("You have no right to look persons up in the population registry."))
    purpose = _check_purpose(purpose) if caller.kind != "citizen" else purpose
    persons = Person.objects.all()
    if personal_id_number:
        _parse_pin(personal_id_number)
        persons = persons.filter(pin_index__in=crypto.blind_indexes(PIN_FIELD, personal_id_number.strip()))
    elif full_name and date_of_birth:
        persons = persons.filter(name_dob_index__in=crypto.blind_indexes("name_dob", name_dob_key(full_name,
                                                                                                  date_of_birth)))
    elif phone:
        persons = persons.filter(phone_index__in=crypto.blind_indexes("phone", phone))
    elif email:
        persons = persons.filter(email_index__in=crypto.blind_indexes("email", email))
    else:
        raise InvalidInput(_("Give an identification number, or a full name with the date of birth, or a phone "
                             "number, or an email address."), rule="required")
    found = list(persons[:2])
    if not found:
        raise NotFound(_("No person matches."))
    if len(found) > 1:
        raise Conflict(_("More than one person matches: search by identification number."), rule="ambiguous")
    person = found[0]
    return person, read_person(person, caller=caller, purpose=purpose, via=via)


# --- Verification and data release ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    match: bool
    deceased: bool | None  # said only when identification number, name and date of birth all match


def _count_call(caller: Caller, what: str, limit: int) -> ratelimit.Decision:
    return ratelimit.hit(f"{what}:{caller.kind}:{getattr(caller.actor, 'pk', '-')}", limit=limit, window_seconds=60)


def _refuse_if_limited(decision: ratelimit.Decision) -> None:
    if not decision.allowed:
        raise RateLimited(_("Too many requests: at most %(limit)d a minute. Try again in %(seconds)d s.")
                          % {"limit": decision.limit, "seconds": decision.retry_after}, decision.retry_after)


def verify_person(*, caller: Caller, personal_id_number: str, full_name: str, date_of_birth,
                  via: str = "api") -> Verification:
    """Xác thực: yes or no, never the data. Rate-limited per client in the shared store; every call logged.

    The count and the ledger event are each atomic on their own (``write_group`` only batches them where that is
    cheaper). A refused call is counted but not logged: it answered nothing."""
    _require(caller, "population.verify", _("This client system has no right to verify identities."))
    _parse_pin(personal_id_number)
    person = queries.person_by_pin(personal_id_number)
    match, deceased = False, None
    if person is not None:
        data = person.personal()
        match = (crypto.normalise(data.full_name) == crypto.normalise(full_name)
                 and data.date_of_birth == date_of_birth)
        if match:
            deceased = person.status == Person.Status.DECEASED
    with write_group():
        decision = _count_call(caller, "verify", getattr(caller.actor, "verify_limit_per_minute", 600))
        if decision.allowed:
            ledger.append("person.verified", partition=caller.partition, actor=caller.actor,
                          subject=person, payload={"registry": rules.POPULATION_REGISTRY, "match": match, "via": via,
                                                   "known_number": person is not None, **reader_facts(caller)})
    _refuse_if_limited(decision)  # after the group: a refused call is counted too, on every database
    return Verification(match=match, deceased=deceased)


RELEASABLE_FIELDS = ("personal_id_number", "full_name", "date_of_birth", "sex", "nationality", "ethnicity",
                     "permanent_residence_unit", "permanent_address", "current_residence_unit", "current_address",
                     "phone", "email", "status")


def release_person(*, caller: Caller, personal_id_number: str, purpose: str,
                   fields_wanted: list[str] | None = None, via: str = "api") -> dict:
    """eKYC: release a person's data to an authorised client system for a declared purpose its grant allows."""
    _require(caller, "population.release", _("This client system has no right to receive personal data."))
    purpose = _check_purpose(purpose)
    allowed = caller_purposes(caller, "population.release")
    if purpose not in allowed:
        _deny(_("The purpose “%(purpose)s” is not one this client system is authorised for.") % {"purpose": purpose})
    wanted = list(fields_wanted or RELEASABLE_FIELDS)
    unknown = [f for f in wanted if f not in RELEASABLE_FIELDS]
    if unknown:
        raise InvalidInput(_("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)}, field="fields",
                           rule="field")
    _parse_pin(personal_id_number)
    person = queries.person_by_pin(personal_id_number)
    if person is None:
        raise NotFound(_("No person with this identification number."))
    data = person.personal().to_json()
    data["status"] = person.status
    _person_event("person.released", person, caller, {"purpose": purpose, "fields": sorted(wanted), "via": via,
                                                      **reader_facts(caller)})
    return {name: data.get(name) for name in wanted}


READ_EVENTS = frozenset({"person.read", "person.verified", "person.released", "registry.record_read"})


def personal_data_usage(*, caller: Caller, personal_id_number: str, registry_code: str, before_id: int | None = None,
                        limit: int = 100) -> list[queries.AccessEntry]:
    """GovStack myPersonalDataUsage: the reads of one's own data in one registry, newest first. Only the person,
    signed in, for their own number (the number is matched through its blind index, never decrypted)."""
    if caller.kind != "citizen" or caller.person_id is None:
        _deny(_("Only the person themselves, signed in, can see who used their data."))
    person = Person.objects.filter(pk=caller.person_id).first()
    if person is None or person.pin_index not in crypto.blind_indexes(PIN_FIELD, personal_id_number):
        _deny(_("You can see the use of your own data only."))
    if not Registry.objects.filter(code=registry_code).exists():
        raise NotFound(_("No registry %(code)s.") % {"code": registry_code}, field="databaseId")
    return queries.access_log(person, before_id=before_id, limit=limit, event_types=READ_EVENTS,
                              registry=registry_code)


def caller_purposes(caller: Caller, service: str) -> frozenset[str]:
    """Purposes granted with ``service`` (carried in the caller's rights as ``service#purpose``)."""
    prefix = f"{service}#"
    return frozenset(right[len(prefix):] for right in caller.rights if right.startswith(prefix))


# ===============================================================================================================
# Digital registries: definitions by agency admins, records validated against their JSON Schema.

POPULATION_SCHEMA = {
    "type": "object",
    "title": "Population registry (Cơ sở dữ liệu quốc gia về dân cư)",
    "properties": {
        "personal_id_number": {"type": "string", "pattern": "^[0-9]{12}$"},
        "full_name": {"type": "string"},
        "date_of_birth": {"type": "string", "format": "date"},
        "sex": {"type": "string", "enum": ["male", "female"]},
        "nationality": {"type": "string"},
        "ethnicity": {"type": "string"},
        "birth_registration_place": {"type": "string"},
        "permanent_residence_unit": {"type": "string"},
        "permanent_address": {"type": "string"},
        "current_residence_unit": {"type": "string"},
        "current_address": {"type": "string"},
        "phone": {"type": "string"},
        "email": {"type": "string"},
        "date_of_death": {"type": ["string", "null"], "format": "date"},
        "status": {"type": "string", "enum": ["living", "deceased"]},
    },
    "required": ["personal_id_number", "full_name", "date_of_birth", "sex"],
}
POPULATION_SEARCHABLE = ["personal_id_number", "phone", "email"]
RESERVED_FIELDS = frozenset({"uuid"})


def ensure_population_registry(agency: Agency | None = None) -> Registry:
    """The population registry as a digital registry (protected), owned by the platform's root agency."""
    registry = Registry.objects.filter(code=rules.POPULATION_REGISTRY).order_by("-id").first()
    if registry is not None:
        return registry
    agency = agency or Agency.objects.filter(parent__isnull=True).order_by("code").first()
    if agency is None:
        raise NotFound(_("Load the agencies first: the population registry belongs to an agency."))
    return Registry.objects.create(
        code=rules.POPULATION_REGISTRY, version="1.0", name="Cơ sở dữ liệu quốc gia về dân cư", agency=agency,
        kind=Registry.Kind.POPULATION, schema=POPULATION_SCHEMA, searchable_fields=POPULATION_SEARCHABLE,
        person_field="personal_id_number", protected=True)


def get_registry(code: str, version: str) -> Registry:
    registry = queries.active_registry(code, version)
    if registry is None:
        raise NotFound(_("No registry %(code)s version %(version)s.") % {"code": code, "version": version})
    return registry


def require_registry_admin(caller: Caller, agency: Agency) -> None:
    if caller.kind == "system" or caller.role == "platform_admin":
        return
    if caller.kind != "officer" or caller.role != "agency_admin":
        _deny(_("Only an agency administrator may define registries."))
    if caller.agency_code != agency.code:
        _deny(_("You can define registries only for your own agency."))


def require_code_owner(code: str, agency: Agency) -> None:
    """Refuse (409, beside the code) a version of registry ``code`` for any agency but the one that owns the code.

    Rights are granted per code, not per version: a second agency holding a version of the code could grant its own
    systems the right to read and write the first agency's records, and replace that agency's grants."""
    owner = queries.registry_code_owner(code) if code else None
    if owner is not None and owner.pk != agency.pk:
        raise Conflict(_("This code belongs to %(agency)s's registry; choose another code.") % {"agency": owner.name},
                       field="code", rule="owner")


def _check_schema(schema) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise InvalidInput(_("The schema is not valid JSON Schema at %(where)s: %(message)s")
                           % {"where": where, "message": exc.message}, field="schema", rule="schema") from None
    reserved = RESERVED_FIELDS & set(schema.get("properties", {}))
    if reserved:
        raise InvalidInput(_("“%(name)s” is reserved for the record's reference; rename that property.")
                           % {"name": sorted(reserved)[0]}, field="schema", rule="reserved")


@transaction.atomic
def define_registry(*, caller: Caller, agency: Agency, code: str, version: str, name: str, schema: dict,
                    searchable_fields: list[str], person_field: str = "", description: str = "",
                    protected: bool = False) -> Registry:
    """Định nghĩa cơ sở dữ liệu: an agency admin defines a registry of their agency. A new version of an existing
    code only for the agency that owns the code (``require_code_owner``)."""
    require_registry_admin(caller, agency)
    code, version, name = (code or "").strip(), (version or "").strip(), (name or "").strip()
    require_code_owner(code, agency)
    if not name:
        raise InvalidInput(_("Enter the registry's name."), field="name", rule="required")
    try:
        rules.check_registry_definition(code, version, schema, searchable_fields, person_field)
    except rules.InvalidDefinition as exc:
        raise InvalidInput(exc.message, field=exc.field, rule="definition") from None
    _check_schema(schema)
    if Registry.objects.filter(code=code, version=version).exists():
        raise Conflict(_("Registry %(code)s version %(version)s exists already: define a new version.")
                       % {"code": code, "version": version}, field="version", rule="unique")
    registry = Registry.objects.create(code=code, version=version, name=name, description=description.strip(),
                                       agency=agency, schema=schema, searchable_fields=list(searchable_fields),
                                       person_field=person_field, protected=protected)
    ledger.append("registry.defined", partition=agency.code, actor=caller.actor, subject=registry,
                  payload={"code": code, "version": version, "searchable_fields": list(searchable_fields),
                           "protected": protected})
    return registry


def _may(caller: Caller, registry: Registry, action: str) -> None:
    """Rights on a registry's records: a client system by grant; officers of the owning agency; citizens never
    (except their own population record, checked by the population functions)."""
    if caller.kind == "system":
        return
    if caller.kind == "client":
        if not caller.may(rules.registry_right(registry.code, action)):
            message = (_("This client system has no right to read registry %(code)s.") if action == "read"
                       else _("This client system has no right to write to registry %(code)s."))
            _deny(message % {"code": registry.code})
        return
    if caller.kind == "officer" and (caller.role == "platform_admin" or caller.agency_code == registry.agency.code):
        return
    message = (_("You have no right to read registry %(code)s.") if action == "read"
               else _("You have no right to write to registry %(code)s."))
    _deny(message % {"code": registry.code})


# What no registry stores, whatever its schema allows: the web forms refuse it, and an API client must meet the same
# refusal rather than have it sealed into a record (NUL breaks PostgreSQL text and every export; a megabyte string
# or a 400-digit integer is no registry value and costs every reader that decrypts it).
RECORD_TEXT_MAX_CHARS = 10_000  # unless the field's schema sets its own maxLength
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what PostgreSQL's bigint and every client language's long can hold


def _check_scalar(value, spec: dict, where: str) -> None:
    """Refuse (422 naming ``where``) a string with control characters or over its length limit, an integer outside
    the signed 64-bit range, a number that is not finite."""
    if isinstance(value, str):
        if has_control_characters(value):
            raise InvalidInput(_("%(where)s: remove the control characters (only tab, line feed and carriage return "
                                 "may appear in a value).") % {"where": where}, field=where, rule="control_characters")
        limit = spec.get("maxLength")
        limit = limit if isinstance(limit, int) and not isinstance(limit, bool) else RECORD_TEXT_MAX_CHARS
        if len(value) > limit:
            # Said here rather than by JSON Schema, whose message would echo the whole value back.
            raise InvalidInput(_("%(where)s: write at most %(limit)s characters (this value has %(count)s).")
                               % {"where": where, "limit": number_format(limit, force_grouping=True),
                                  "count": number_format(len(value), force_grouping=True)},
                               field=where, rule="max_length")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidInput(_("%(where)s: a whole number must lie between %(min)s and %(max)s.")
                               % {"where": where, "min": INT64_MIN, "max": INT64_MAX}, field=where, rule="range")
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(_("%(where)s: the number must be finite (NaN and Infinity are not accepted).")
                           % {"where": where}, field=where, rule="finite")


def _check_values(content: dict, schema: dict) -> None:
    """``_check_scalar`` on every value of a record, nested ones included (named as JSON Schema errors name them:
    ``address.street``, ``phones.0``), and on every property name. Each value is checked against the part of the
    schema that describes it, so a field's own maxLength replaces the default limit. A loop, not recursion: a
    deeply nested body must not exhaust the stack."""
    pending = deque([(content, schema, "")])
    while pending:
        value, spec, where = pending.popleft()
        spec = spec if isinstance(spec, dict) else {}
        if isinstance(value, dict):
            properties = spec.get("properties") if isinstance(spec.get("properties"), dict) else {}
            for key, item in value.items():
                key = str(key)
                if has_control_characters(key) or len(key) > RECORD_TEXT_MAX_CHARS:
                    raise InvalidInput(_("%(where)s: a property name may not hold control characters or be longer "
                                         "than %(limit)s characters.")
                                       % {"where": where or "(record)",
                                          "limit": number_format(RECORD_TEXT_MAX_CHARS, force_grouping=True)},
                                       field=where or "(record)", rule="property_name")
                pending.append((item, properties.get(key, spec.get("additionalProperties")),
                                f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            pending.extend((item, spec.get("items"), f"{where}.{index}") for index, item in enumerate(value))
        else:
            _check_scalar(value, spec, where or "(record)")


def _validate_content(registry: Registry, content: dict) -> dict:
    from jsonschema import Draft202012Validator, FormatChecker

    if not isinstance(content, dict):
        raise InvalidInput(_("A record is a JSON object."), rule="type")
    content = {k: v for k, v in content.items() if k not in RESERVED_FIELDS}
    # Before the schema: its patterns would otherwise run over megabyte strings, and its messages echo the value.
    _check_values(content, registry.schema)
    errors = sorted(Draft202012Validator(registry.schema, format_checker=FormatChecker()).iter_errors(content),
                    key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.path) or "(record)"
        raise InvalidInput(_("%(where)s: %(message)s") % {"where": where, "message": first.message},
                           field=where, rule="schema")
    if registry.person_field and content.get(registry.person_field):
        _parse_pin(str(content[registry.person_field]), field=registry.person_field)
    return content


def _seal_record(record: RegistryRecord, content: dict) -> None:
    key = crypto.keyring().active
    record.sealed = crypto.seal_json(content, record.aad, key=key)
    record.key_id = key.key_id
    registry = record.registry
    person_value = content.get(registry.person_field) if registry.person_field else None
    record.person_index = crypto.blind_index(PIN_FIELD, person_value, key=key) if person_value else ""


def _index_rows(record: RegistryRecord, content: dict, key: crypto.MasterKey | None = None) -> list[RecordIndex]:
    registry = record.registry
    return [RecordIndex(record=record, registry=registry, field=name,
                        value_index=crypto.blind_index(f"{registry.code}.{name}", content[name], key=key))
            for name in registry.searchable_fields if content.get(name) not in (None, "")]


def _index_record(record: RegistryRecord, content: dict) -> None:
    RecordIndex.objects.filter(record=record).delete()
    RecordIndex.objects.bulk_create(_index_rows(record, content))


def _person_ids(registry: Registry, contents: list[dict]) -> list[int | None]:
    """The person each record names in its person field (None where none), in one query for any number of records.
    Matched under every configured key, so a record and its person that a rotation has not yet both re-indexed
    still find each other."""
    if not registry.person_field:
        return [None] * len(contents)
    pins = [str(content.get(registry.person_field) or "") for content in contents]
    pin_of = {digest: pin for pin in set(pins) if pin for digest in crypto.blind_indexes(PIN_FIELD, pin)}
    found = Person.objects.filter(pin_index__in=list(pin_of)).values_list("pin_index", "pk") if pin_of else []
    person_of = {pin_of[digest]: pk for digest, pk in found}
    return [person_of.get(pin) for pin in pins]


def _record_event(event_type: str, record: RegistryRecord, caller: Caller, person_id: int | None,
                  payload: dict | None = None) -> None:
    """A record event; when the record names a person (``person_id``), that person is the subject, so they see it
    in their access log."""
    payload = {"registry": record.registry.code, "record": str(record.uid), **(payload or {})}
    subject = ("registries.person", person_id) if person_id is not None else record
    ledger.append(event_type, partition=caller.partition, actor=caller.actor, subject=subject, payload=payload)


def _refuse_population_write(registry: Registry) -> None:
    if registry.kind == Registry.Kind.POPULATION:
        _deny(_("The population registry changes only through life events (birth, death, residence, correction) "
                "recorded by civil-status officers."))


@transaction.atomic
def create_record(registry: Registry, content: dict, *, caller: Caller) -> tuple[RegistryRecord, dict]:
    _refuse_population_write(registry)
    _may(caller, registry, "write")
    content = _validate_content(registry, content)
    record = RegistryRecord(registry=registry)
    _seal_record(record, content)
    record.save()
    _index_record(record, content)
    _record_event("registry.record_created", record, caller, _person_ids(registry, [content])[0])
    return record, content


def _query_records(registry: Registry, query: dict):
    if not isinstance(query, dict) or not query:
        raise InvalidInput(_("Give at least one searchable field to match."), field="query", rule="required")
    records = RegistryRecord.objects.filter(registry=registry)
    for name, value in query.items():
        if name == "uuid":
            records = records.filter(uid=_uuid(value))
            continue
        if name not in registry.searchable_fields:
            raise InvalidInput(_("“%(name)s” is not a searchable field of this registry (searchable: %(fields)s).")
                               % {"name": name, "fields": ", ".join(registry.searchable_fields) or "-"},
                               field=f"query.{name}", rule="searchable")
        _check_query_value(name, value, registry.schema.get("properties", {}).get(name))
        records = records.filter(pk__in=RecordIndex.objects.filter(
            registry=registry, field=name,
            value_index__in=crypto.blind_indexes(f"{registry.code}.{name}", value)).values("record_id"))
    return records.order_by("id")


def _check_query_value(name: str, value, spec) -> None:
    """A query matches one exact value: a list, an object (``{"$ne": 1}``) or null is refused (422), not turned
    into its text and matched against nothing; a value no record could hold (``_check_scalar``) likewise."""
    where = f"query.{name}"
    if value is None or isinstance(value, (dict, list)):
        raise InvalidInput(_("%(where)s: give one value to match exactly (a string, a number or true/false), not a "
                             "list, an object or null.") % {"where": where}, field=where, rule="type")
    _check_scalar(value, spec if isinstance(spec, dict) else {}, where)


def _uuid(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(_("“%(value)s” is not a record reference (uuid).") % {"value": value},
                           field="uuid", rule="uuid") from None


def record_out(record: RegistryRecord, content: dict) -> dict:
    """A record as the GovStack API shows it: its content and its reference."""
    return {**content, "uuid": str(record.uid)}


def _population_query(query: dict) -> dict:
    allowed = {"personal_id_number", "phone", "email", "uuid"}
    unknown = sorted(set(query) - allowed)
    if unknown or not query:
        raise InvalidInput(_("The population registry is searched only by personal_id_number, phone, email or "
                           "uuid."), field="query", rule="searchable")
    for name, value in query.items():
        if name != "uuid":  # a uuid is checked as a reference (``_uuid``)
            _check_query_value(name, value, None)
    return query


def _population_read(registry: Registry, query: dict, caller: Caller, purpose: str) -> dict | None:
    query = _population_query(query)
    if set(query) == {"personal_id_number"} and caller.kind != "citizen":  # the hot path: one raw indexed look-up
        person = queries.person_by_pin(str(query["personal_id_number"]))
        return _population_out(person, caller, purpose) if person is not None else None
    persons = Person.objects.all()
    if caller.kind == "citizen":
        # A citizen's query runs over their own record only, and a miss is refused like a hit on someone else's, so
        # the answer never tells whether another identification number exists.
        persons = persons.filter(pk=caller.person_id)
    if "uuid" in query:
        persons = persons.filter(uid=_uuid(query["uuid"]))
    if "personal_id_number" in query:
        persons = persons.filter(pin_index__in=crypto.blind_indexes(PIN_FIELD, str(query["personal_id_number"])))
    if "phone" in query:
        persons = persons.filter(phone_index__in=crypto.blind_indexes("phone", str(query["phone"])))
    if "email" in query:
        persons = persons.filter(email_index__in=crypto.blind_indexes("email", str(query["email"])))
    person = persons.first()
    if person is None:
        if caller.kind == "citizen":
            _deny(_("You can read only your own record."))
        return None
    return _population_out(person, caller, purpose)


def _population_out(person: Person, caller: Caller, purpose: str) -> dict:
    """A person read through the GovStack API (logged), shaped like a registry record."""
    data = read_person(person, caller=caller, purpose=purpose, via="govstack").to_json()
    return {**data, "status": person.status, "uuid": str(person.uid)}


def read_record(registry: Registry, query: dict, *, caller: Caller, purpose: str = "") -> dict | None:
    """GovStack read: the first record matching ``query`` (exact, on searchable fields), logged; None if none."""
    if registry.kind == Registry.Kind.POPULATION:
        if caller.kind != "citizen":
            _may(caller, registry, "read")
        return _population_read(registry, query, caller, purpose or "govstack read")
    _may(caller, registry, "read")
    record = _query_records(registry, query).first()
    if record is None:
        return None
    content = record.content()
    _record_event("registry.record_read", record, caller, _person_ids(registry, [content])[0],
                  {"purpose": _check_purpose(purpose or "govstack read"), **reader_facts(caller)})
    return record_out(record, content)


def record_exists(registry: Registry, query: dict, *, caller: Caller) -> bool:
    if registry.kind == Registry.Kind.POPULATION:
        _may(caller, registry, "read")
        return _population_read(registry, query, caller, "govstack exists") is not None
    _may(caller, registry, "read")
    return _query_records(registry, query).exists()


MAX_PAGE_SIZE = 100


def list_records(registry: Registry, query: dict, *, caller: Caller, page: int = 1, page_size: int = 20,
                 descending: bool = False, purpose: str = "") -> tuple[int, list[dict]]:
    """GovStack list: records matching ``query`` (may be empty: every record), offset-paged with a capped size.
    ``purpose`` is logged with each read of personal data (shown to the person)."""
    if registry.kind == Registry.Kind.POPULATION:
        _may(caller, registry, "read")
        if not query:
            raise InvalidInput(_("The population registry is never listed whole: give query.personal_id_number, "
                                 "query.phone or query.email."), field="query", rule="required")
        found = _population_read(registry, query, caller, purpose or "govstack list")
        return (1, [found]) if found else (0, [])
    _may(caller, registry, "read")
    purpose = _check_purpose(purpose or "govstack list")
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    records = _query_records(registry, query) if query else RegistryRecord.objects.filter(registry=registry)
    records = records.order_by("-id" if descending else "id")
    count = records.count()
    rows = list(records[(page - 1) * page_size: page * page_size])
    for record in rows:
        record.registry = registry  # known already: not one query per row when the events name it
    contents = [record.content() for record in rows]
    if rows:
        with transaction.atomic():  # one commit for the page's read events
            for record, person_id in zip(rows, _person_ids(registry, contents), strict=True):
                if record.person_index or registry.protected:
                    _record_event("registry.record_read", record, caller, person_id,
                                  {"purpose": purpose, **reader_facts(caller)})
    return count, [record_out(record, content) for record, content in zip(rows, contents, strict=True)]


@transaction.atomic
def update_records(registry: Registry, query: dict, write: dict, *, caller: Caller, many: bool) -> int:
    """GovStack update (one) / updateEntries (many): merge ``write`` into the matching records."""
    _refuse_population_write(registry)
    _may(caller, registry, "write")
    records = list(_query_records(registry, query).select_for_update())
    if not records:
        raise NotFound(_("No record matches."))
    if not many:
        records = records[:1]
    for record in records:
        record.registry = registry  # known already: no query per record
        _merge_into(record, write, caller)
    return len(records)


def _merge_into(record: RegistryRecord, write: dict | None, caller: Caller) -> dict:
    """Merge ``write`` into a locked record, validate the whole, re-seal, re-index, log. Returns the new content."""
    content = _validate_content(record.registry, {**record.content(), **(write or {})})
    _seal_record(record, content)
    record.version += 1
    record.save()
    _index_record(record, content)
    _record_event("registry.record_updated", record, caller, _person_ids(record.registry, [content])[0],
                  {"fields": sorted(set(write or {}) - RESERVED_FIELDS)})
    return content


@transaction.atomic
def update_or_create_record(registry: Registry, query: dict, write: dict, *, caller: Caller) -> dict:
    _refuse_population_write(registry)
    _may(caller, registry, "write")
    record = _query_records(registry, query).select_for_update().first() if query else None
    if record is None:
        record, content = create_record(registry, {**(query or {}), **(write or {})}, caller=caller)
        return record_out(record, content)
    return record_out(record, _merge_into(record, write, caller))


@transaction.atomic
def delete_record(registry: Registry, record_uid, *, caller: Caller) -> None:
    if registry.protected or registry.kind == Registry.Kind.POPULATION:
        _deny(_("Registry %(code)s is protected: its records are never deleted.") % {"code": registry.code})
    _may(caller, registry, "write")
    record = RegistryRecord.objects.select_for_update().filter(registry=registry, uid=_uuid(record_uid)).first()
    if record is None:
        raise NotFound(_("No such record."))
    _record_event("registry.record_deleted", record, caller, _person_ids(registry, [record.content()])[0])
    record.delete()


def read_value(registry: Registry, record_uid, field: str, *, caller: Caller, purpose: str = "") -> object:
    if field not in registry.schema.get("properties", {}) and field != "uuid":
        raise NotFound(_("Registry %(code)s has no field “%(field)s”.") % {"code": registry.code, "field": field})
    content = read_record(registry, {"uuid": str(record_uid)}, caller=caller, purpose=purpose or "govstack readValue")
    if content is None:
        raise NotFound(_("No such record."))
    return content.get(field)


@transaction.atomic
def import_persons(rows: list[tuple[PersonalData, dict]], *, caller: Caller, batch_label: str = "") -> list[Person]:
    """Bulk first load (migration from an older registry, demo data): each row is validated, sealed and inserted;
    one ledger event for the batch (the persons' own events start with their first life event or read).
    ``rows`` pairs the data with model fields such as ``household``, ``father``, ``mother``, ``spouse``, ``status``."""
    _require_registrar(caller)
    known_units = _current_communes(set().union(*(_residence_units(data) for data, _extra in rows)))
    persons = []
    for data, extra in rows:
        validate_personal_data(data, known_units=known_units)
        person = Person(**extra)
        person.seal(data)
        persons.append(person)
    try:
        with transaction.atomic():
            Person.objects.bulk_create(persons, batch_size=1000)
    except IntegrityError:
        raise Conflict(_("The batch holds an identification number that is already registered."),
                       field="personal_id_number", rule="unique") from None
    ledger.append("population.imported", partition=caller.partition, actor=caller.actor,
                  payload={"registry": rules.POPULATION_REGISTRY, "count": len(persons), "batch": batch_label[:64]})
    return persons


# ===============================================================================================================
# Key rotation: re-encrypt under the active key and rebuild blind indexes, in small batches, while serving.

# Labels of the tables registered in egov.kernel.crypto, in the order status and reports name them.
TABLE_NAMES = {"persons": "persons", "records": "registry records", "messages": "messages", "codes": "one-time codes"}


@dataclass
class RotationReport:
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    batches: int = 0

    @property
    def persons(self) -> int:
        return self.counts.get("persons", 0)

    @property
    def records(self) -> int:
        return self.counts.get("records", 0)

    def line(self) -> str:
        others = [f"{n} {TABLE_NAMES.get(label, label)}" for label, n in self.counts.items()
                  if label not in ("persons", "records") and n]
        return (f"re-encrypted {self.persons} persons and {self.records} registry records"
                + (f" (and {', '.join(others)})" if others else "") + f" in {self.batches} batches")


def key_usage() -> dict[str, dict[str, int]]:
    """How many rows of each sealed table (persons, records, messages, codes…) are under each key id
    (``egov keys status``). Every key id present has a count for every table."""
    tables = crypto.sealed_tables()
    usage: dict[str, dict[str, int]] = {}
    for table in tables:
        for key_id, n in table.usage().items():
            usage.setdefault(key_id, {t.label: 0 for t in tables})[table.label] = n
    return usage


def _person_usage() -> dict[str, int]:
    return crypto.count_by_key(Person)


def _record_usage() -> dict[str, int]:
    return crypto.count_by_key(RegistryRecord)


def _rotate_person_batch(old_ids: list[str], active: crypto.MasterKey, batch_size: int) -> int:
    with transaction.atomic():
        # Locked like every life event locks its person, so a concurrent change waits instead of being overwritten.
        persons = list(Person.objects.select_for_update().filter(key_id__in=old_ids).order_by("id")[:batch_size])
        for person in persons:
            person.seal(person.personal(), key=active)
        Person.objects.bulk_update(persons, ["sealed", "key_id", "pin_index", "name_dob_index", "phone_index",
                                             "email_index"])
        if persons:
            ledger.append("population.keys_rotated", partition="platform",
                          payload={"registry": rules.POPULATION_REGISTRY, "count": len(persons), "key": active.key_id})
    return len(persons)


def _rotate_record_batch(old_ids: list[str], active: crypto.MasterKey, batch_size: int) -> int:
    with transaction.atomic():
        records = list(RegistryRecord.objects.select_for_update().select_related("registry")
                       .filter(key_id__in=old_ids).order_by("id")[:batch_size])
        indexes = []
        for record in records:
            content = record.content()
            _seal_record(record, content)
            indexes += _index_rows(record, content, key=active)
        RegistryRecord.objects.bulk_update(records, ["sealed", "key_id", "person_index"])
        RecordIndex.objects.filter(record__in=records).delete()
        RecordIndex.objects.bulk_create(indexes)
        if records:
            ledger.append("registry.keys_rotated", partition="platform",
                          payload={"count": len(records), "key": active.key_id})
    return len(records)


def rotate_keys(*, batch_size: int = 500, pause_seconds: float = 0.0, progress=None) -> RotationReport:
    """Re-encrypt every sealed row (persons, records, and every table another component registered in
    ``egov.kernel.crypto``) sealed under an older configured key with the active key (the first in
    ``EGOV_DATA_KEYS``), and rebuild their blind indexes. Each batch is its own short transaction, so the platform
    keeps serving: lookups match the blind index under every configured key until the rotation ends. Idempotent and
    resumable: run it again after an interruption. Remove the old key only when ``key_usage()`` shows none left."""
    ring = crypto.keyring()
    active = ring.active
    old_ids = [key_id for key_id in ring.ids if key_id != active.key_id]
    report = RotationReport(counts={table.label: 0 for table in crypto.sealed_tables()})
    if not old_ids:
        return report
    for table in crypto.sealed_tables():
        while True:
            done = table.rotate_batch(old_ids, active, batch_size)
            if not done:
                break
            report.counts[table.label] += done
            report.batches += 1
            if progress:
                progress(report)
            if pause_seconds:
                time.sleep(pause_seconds)
    return report


# ===============================================================================================================
# Enterprise registry (đăng ký doanh nghiệp). Business registration officers register enterprises and record changes
# of their legal representative and status; every change is a ledger event in the officer's agency's partition. Codes,
# names and addresses are public business data; the representative appears in events only as a person reference.

ENTERPRISE_RIGHT = "enterprise.register"


def _require_enterprise_registrar(caller: Caller) -> None:
    _require(caller, ENTERPRISE_RIGHT, _("Only business registration officers may change the enterprise registry."))


def _enterprise_event(event_type: str, enterprise, caller: Caller, payload: dict | None = None) -> None:
    ledger.append(event_type, partition=caller.partition, actor=caller.actor, subject=enterprise,
                  payload={"code": enterprise.code, **(payload or {})})


def _representative(person_or_pin) -> Person:
    """A living person of the population registry, given as a Person or by identification number."""
    if isinstance(person_or_pin, Person):
        # The caller's instance may be stale (a death registered since it was read): decide on the stored status.
        person = Person.objects.only("id", "uid", "status").get(pk=person_or_pin.pk)
    else:
        _parse_pin(str(person_or_pin or ""), field="legal_representative")
        person = queries.person_by_pin(str(person_or_pin))
        if person is None:
            raise InvalidInput(_("No person with this identification number is registered in the population "
                                 "registry."), field="legal_representative", rule="unknown_person")
    if person.status != Person.Status.LIVING:
        raise InvalidInput(_("This person is recorded as deceased and cannot represent an enterprise."),
                           field="legal_representative", rule="deceased")
    return person


def _enterprise_code(raw: str) -> str:
    """The stored form of an enterprise's own code: a branch's 13-digit code is refused (a dependent unit is
    registered under its enterprise, not as one)."""
    try:
        code = rules.parse_enterprise_code(raw)
    except rules.InvalidEnterpriseCode as exc:
        raise InvalidInput(exc.message, field="code", rule=exc.rule) from None
    if code.is_dependent_unit:
        raise InvalidInput(_("%(code)s is the code of a branch (a dependent unit). Enter the enterprise's own "
                             "10-digit code.") % {"code": code}, field="code", rule="dependent_unit")
    return str(code)


@transaction.atomic
def register_enterprise(*, caller: Caller, code: str, name: str, head_office_unit: str, head_office_address: str,
                        legal_representative, name_en: str = "", short_name: str = "", registered_at=None):
    """Đăng ký doanh nghiệp: enter an enterprise with its code, name, head office (current commune code + street
    address) and legal representative (a Person, or their identification number). Raises InvalidInput naming the
    field and rule, Conflict when the code is taken, Denied without the right."""
    from egov.registries.models import Enterprise

    _require_enterprise_registrar(caller)
    stored_code = _enterprise_code(code)
    name, name_en, short_name = (name or "").strip(), (name_en or "").strip(), (short_name or "").strip()
    head_office_address = (head_office_address or "").strip()
    if not name:
        raise InvalidInput(_("Enter the enterprise's name."), field="name", rule="required")
    for field, value, limit in (("name", name, 255), ("name_en", name_en, 255), ("short_name", short_name, 100),
                                ("head_office_address", head_office_address, 255)):
        if len(value) > limit:
            raise InvalidInput(_("At most %(limit)d characters.") % {"limit": limit}, field=field, rule="length")
    unit = queries.current_unit(str(head_office_unit or "").strip(), level=COMMUNE)
    if unit is None:
        raise InvalidInput(_("%(code)s is not a current commune code (5 digits, from 1 July 2025).")
                           % {"code": head_office_unit}, field="head_office_unit", rule="unit")
    if not head_office_address:
        raise InvalidInput(_("Enter the head office's street address."), field="head_office_address",
                           rule="required")
    person = _representative(legal_representative)
    if Enterprise.objects.filter(code=stored_code).exists():
        raise Conflict(_("An enterprise with code %(code)s is already registered.") % {"code": stored_code},
                       field="code", rule="unique")
    enterprise = Enterprise.objects.create(
        code=stored_code, name=name, name_en=name_en, short_name=short_name, head_office_unit=unit,
        head_office_address=head_office_address, legal_representative_id=person.pk,
        registered_at=registered_at or timezone.now())
    _enterprise_event("enterprise.registered", enterprise, caller,
                      {"head_office_unit": unit.code, "representative_person_id": person.pk})
    return enterprise


def _locked_enterprise(code: str):
    from egov.registries.models import Enterprise

    stored = _enterprise_code(code)
    enterprise = Enterprise.objects.select_for_update().filter(code=stored).first()
    if enterprise is None:
        raise NotFound(_("No enterprise with code %(code)s is registered.") % {"code": stored}, field="code",
                       rule="unknown")
    return enterprise


@transaction.atomic
def change_legal_representative(code: str, *, caller: Caller, legal_representative):
    """Thay đổi người đại diện theo pháp luật: the enterprise's new representative (a Person or an identification
    number). The former representative's business account stops working at once (``egov.accounts`` checks the
    link on every use); staff they authorised stay until the new representative revokes them."""
    _require_enterprise_registrar(caller)
    enterprise = _locked_enterprise(code)
    if enterprise.status == enterprise.Status.DISSOLVED:
        raise Conflict(_("This enterprise is dissolved: its records can no longer change."), field="code",
                       rule="dissolved")
    person = _representative(legal_representative)
    if person.pk == enterprise.legal_representative_id:
        raise Conflict(_("This person is already the enterprise's legal representative."),
                       field="legal_representative", rule="unchanged")
    previous = enterprise.legal_representative_id
    enterprise.legal_representative_id = person.pk
    enterprise.save(update_fields=["legal_representative", "updated_at"])
    _enterprise_event("enterprise.representative_changed", enterprise, caller,
                      {"previous_person_id": previous, "representative_person_id": person.pk})
    return enterprise


@transaction.atomic
def change_enterprise_status(code: str, *, caller: Caller, status: str):
    """Tạm ngừng / tiếp tục / giải thể: suspend, resume or dissolve an enterprise (dissolution is final)."""
    _require_enterprise_registrar(caller)
    enterprise = _locked_enterprise(code)
    if status not in enterprise.Status.values:
        raise InvalidInput(_("Unknown status."), field="status", rule="status")
    try:
        rules.check_enterprise_transition(enterprise.status, status)
    except rules.ForbiddenEnterpriseTransition as exc:
        raise Conflict(exc.message, field="status", rule=exc.rule) from None
    previous = enterprise.status
    enterprise.status = status
    enterprise.save(update_fields=["status", "updated_at"])
    _enterprise_event("enterprise.status_changed", enterprise, caller, {"from": previous, "to": status})
    return enterprise
