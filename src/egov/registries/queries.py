"""Reads of the base registries."""
import json
import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Length

from egov.kernel import row_cache
from egov.kernel.text import fold
from egov.registries.models import AdministrativeUnit, Agency, LegacyUnitMapping

Unit = AdministrativeUnit
CURRENT = Unit.Generation.CURRENT
LEGACY = Unit.Generation.LEGACY
MAX_LIMIT = 100

_CONTROL_OR_SPACE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_AGENCY_CODE_CHARACTERS = re.compile(r"[0-9A-Z.]{1,13}")  # what an organisation code may hold (rules.parse_code)

_LEVEL_ORDER = Case(When(level=Unit.Level.PROVINCE, then=Value(0)), When(level=Unit.Level.DISTRICT, then=Value(1)),
                    default=Value(2), output_field=IntegerField())


def search_units(q: str, generation: str = CURRENT, limit: int = 20, level: str | None = None) -> list[AdministrativeUnit]:
    """Find units by name, ignoring case, diacritics and đ: "da nang" finds "Thành phố Đà Nẵng".

    Every word of the query must occur in the folded name. Best matches first: the name without its kind equals the
    query ("Đà Nẵng"), then names where the whole query occurs as a phrase (prefix before contains), then the rest;
    provinces before districts before communes; shorter names first.
    """
    folded = fold(q or "")
    if not folded:
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    units = Unit.objects.filter(generation=generation)
    if level:
        units = units.filter(level=level)
    for word in folded.split():
        units = units.filter(folded_name__contains=word)
    rank = Case(
        When(folded_name=folded, then=Value(0)),
        When(folded_name__endswith=" " + folded, then=Value(0)),  # "thanh pho da nang" for "da nang"
        When(folded_name__startswith=folded, then=Value(1)),
        When(folded_name__contains=" " + folded, then=Value(2)),
        When(folded_name__contains=folded, then=Value(3)),
        default=Value(4), output_field=IntegerField())
    units = units.annotate(rank=rank, level_order=_LEVEL_ORDER, name_length=Length("folded_name"))
    return list(units.select_related("parent").order_by("rank", "level_order", "name_length", "code")[:limit])


def legacy_successors(legacy_unit: AdministrativeUnit) -> list[LegacyUnitMapping]:
    """Every new unit a legacy unit went to, the default first."""
    return list(LegacyUnitMapping.objects.filter(legacy_unit=legacy_unit)
                .select_related("new_commune", "new_province").order_by("-is_default", "new_commune__code"))


def successor_of(legacy_unit: AdministrativeUnit) -> AdministrativeUnit | None:
    """The current unit a legacy unit resolves to: its default new commune, or the new province for a legacy
    province. A legacy district spanning several new communes has no single successor: None."""
    mapping = (LegacyUnitMapping.objects.filter(legacy_unit=legacy_unit, is_default=True)
               .select_related("new_commune", "new_province").first())
    if mapping is None:
        return None
    return mapping.new_commune or mapping.new_province


def resolve_legacy_address(address: str) -> AdministrativeUnit | None:
    """Resolve a pre-2025 address ("Phường Phúc Xá, Quận Ba Đình, Hà Nội") to its current unit.

    The pinned package's offline legacy parser reads the free text (it knows abbreviations such as "Q." or "TP HCM");
    our mapping table gives the successor. Only the parser is used, never the package's converter, which geocodes
    over the network. Returns None when the address names no known legacy unit.
    """
    from vietnamadminunits import ParseMode, parse_address

    if not (address or "").strip():
        return None
    try:
        parsed = parse_address(address, mode=ParseMode.LEGACY, level=3, keep_street=False)
    except Exception:  # noqa: BLE001 -- the package raises bare Exception on text it cannot read at all
        return None
    for level, code in ((Unit.Level.COMMUNE, parsed.ward_code), (Unit.Level.DISTRICT, parsed.district_code),
                        (Unit.Level.PROVINCE, parsed.province_code)):
        if not code:
            continue
        legacy = Unit.objects.filter(generation=LEGACY, level=level, code=code).first()
        if legacy is not None and (successor := successor_of(legacy)) is not None:
            return successor
    return None


def current_unit(code: str, level: str | None = None) -> AdministrativeUnit | None:
    units = Unit.objects.filter(generation=CURRENT, code=code)
    if level:
        units = units.filter(level=level)
    return units.first()


def list_units(*, generation: str = CURRENT, level: str | None = None, after: str | None = None,
               limit: int = 100) -> list[AdministrativeUnit]:
    """Units in code order, one page after ``after``: keyset pagination, never OFFSET, so deep pages stay as cheap as
    the first (the unique (generation, code) index serves it)."""
    units = AdministrativeUnit.objects.filter(generation=generation).select_related("parent")
    if level:
        units = units.filter(level=level)
    if after:
        units = units.filter(code__gt=after)
    return list(units.order_by("code")[:limit])


# ---------------------------------------------------------------------------------------------------------------
# A person's access log (nhật ký truy cập dữ liệu cá nhân): who read or changed their data, when and why.

@dataclass(frozen=True)
class AccessEntry:
    id: int                    # the ledger event id (for keyset paging: pass as before_id)
    at: datetime
    event_type: str            # person.read, person.verified, person.released, registry.record_read, person.corrected …
    purpose: str
    via: str                   # web, api, govstack
    reader_kind: str           # officer, client, citizen, system
    reader_agency_code: str
    reader_agency_name: str
    reader_role: str           # officer role (accounts.Role value), empty for systems
    reader_system: str         # client system identifier (VN:GOV:…), empty for persons
    registry: str
    match: bool | None         # for verifications


def access_log(person, *, before_id: int | None = None, limit: int = 50, event_types: frozenset[str] | None = None,
               registry: str | None = None) -> list[AccessEntry]:
    """Newest first, a page at a time (keyset on the event id), optionally only some event types of one registry.
    One query for the events, one for agency names."""
    from egov.kernel.models import Event

    limit = max(1, min(limit, 200))
    events = Event.objects.filter(subject_type="registries.person", subject_id=str(person.pk))
    if before_id is not None:
        events = events.filter(id__lt=before_id)
    if event_types is not None:
        events = events.filter(event_type__in=sorted(event_types))
    if registry is not None:
        events = events.filter(payload__registry=registry)
    rows = list(events.order_by("-id")[:limit])
    codes = {e.payload.get("reader_agency") or e.partition for e in rows}
    names = dict(Agency.objects.filter(code__in=codes).values_list("code", "name"))
    entries = []
    for event in rows:
        payload = event.payload or {}
        code = payload.get("reader_agency") or (event.partition if event.partition != "platform" else "")
        entries.append(AccessEntry(
            id=event.id, at=event.occurred_at, event_type=event.event_type, purpose=payload.get("purpose", ""),
            via=payload.get("via", ""), reader_kind=payload.get("reader_kind", event.actor_kind),
            reader_agency_code=code, reader_agency_name=names.get(code, ""), reader_role=payload.get("reader_role", ""),
            reader_system=payload.get("reader_system", ""), registry=payload.get("registry", ""),
            match=payload.get("match")))
    return entries


def registries_visible_to(agency_id: int | None, *, every_agency: bool) -> list:
    """The active registries an administrator manages (their agency's, or every agency's), with the national
    population registry, which everyone sees."""
    from django.db.models import Q

    from egov.registries.models import Registry

    registries = Registry.objects.select_related("agency").filter(is_active=True)
    if not every_agency:
        registries = registries.filter(Q(agency_id=agency_id) | Q(kind=Registry.Kind.POPULATION))
    return list(registries.order_by("code", "version"))


def registry_code_owner(code: str):
    """The agency that owns registry ``code``: the one that defined its first version (None for a code nobody uses).

    Rights are granted per code (``registry.<code>.read/write``) while a registry row is one version, so every
    version of a code must belong to one agency: otherwise whoever defines another version could grant their own
    systems the rights on the first agency's records. Inactive versions count too: deactivating a registry does not
    free its code for another agency."""
    from egov.registries.models import Registry

    first = Registry.objects.select_related("agency").filter(code=code).order_by("id").first()
    return first.agency if first is not None else None


_PERSON_SQL: dict[str, str] = {}


def person_by_pin(personal_id_number: str):
    """The person with this identification number (matched by its blind index under every configured key), or None.

    Raw SQL: verification and GovStack reads run it on every call, and the ORM's query compilation cost more than
    the indexed lookup itself (measured with bench/bench_population.py). The instance carries the columns that
    reading needs (id, uid, sealed, key id, status)."""
    from django.db import connections, router

    from egov.kernel import crypto
    from egov.registries.models import PIN_FIELD, Person

    digests = crypto.blind_indexes(PIN_FIELD, personal_id_number.strip())
    alias = router.db_for_read(Person)
    connection = connections[alias]
    key = f"{connection.vendor}:{len(digests)}"
    if key not in _PERSON_SQL:
        q = connection.ops.quote_name
        marks = ", ".join(["%s"] * len(digests))
        _PERSON_SQL[key] = (f"SELECT {q('id')}, {q('uid')}, {q('sealed')}, {q('key_id')}, {q('status')} "
                            f"FROM {q(Person._meta.db_table)} WHERE {q('pin_index')} IN ({marks})")
    with connection.cursor() as cursor:
        cursor.execute(_PERSON_SQL[key], digests)
        row = cursor.fetchone()
    if row is None:
        return None
    pk, uid, sealed, key_id, status = row
    # from_db with the selected columns takes Django's positional path (the rest stay deferred): a keyword
    # Person(...) cost a quarter of this function (measured).
    return Person.from_db(alias, _PERSON_COLUMNS, (pk, Person._meta.get_field("uid").to_python(uid), sealed, key_id,
                                                   status))


_PERSON_COLUMNS = ("id", "uid", "sealed", "key_id", "status")


_REGISTRY_SQL: dict[str, str] = {}
_REGISTRY_COLUMNS = ("id", "code", "version", "name", "description", "agency_id", "kind", "schema",
                     "searchable_fields", "person_field", "protected", "is_active")
# Registries built from their rows, per process, keyed by the whole row as the database returned it (every column
# above, updated_at, the agency's code and name): any change to the definition, even one made with a queryset
# update() that leaves updated_at alone, makes another key, so it is seen on the very next call. Bounded: stale
# entries are only dropped when it fills up.
_REGISTRIES: dict[tuple, object] = {}
_REGISTRIES_MAX = 256


def _json_column(value):
    # PostgreSQL hands jsonb to Django as text (as JSONField expects); another driver may decode it already.
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def active_registry(code: str, version: str):
    """The active registry ``code`` ``version`` with its agency (code and name loaded), or None.

    A plain cursor (no ORM compilation, no RawQuerySet): every GovStack call starts here, and building the row
    through ``Registry.objects.raw`` cost more than half a millisecond, more than the rest of a read's queries
    together (measured with bench/bench_population.py). On PostgreSQL the answer is kept per connection until a
    registry or agency changes (``egov.kernel.row_cache``: the database notifies every change); on SQLite the row is
    read on every call. Either way the instance built from a row (JSON Schema parsed, two model instances) is kept
    per process for as long as the row stays the same: building it was a third of the look-up (measured with
    prof_read.py). So the instance is shared by the calls that get it: callers read it, never change it. Columns
    not selected (the timestamps, the agency's other fields) stay deferred: Django loads them if something reads
    them."""
    from django.db import router

    from egov.registries.models import Registry

    alias = router.db_for_read(Registry)
    return row_cache.cached(alias, ("registry", code, version), lambda: _read_active_registry(alias, code, version))


def _read_active_registry(alias: str, code: str, version: str):
    from django.db import connections

    from egov.registries.models import Registry

    connection = connections[alias]
    if connection.vendor not in _REGISTRY_SQL:
        q = connection.ops.quote_name
        columns = ", ".join(f"r.{q(name)}" for name in _REGISTRY_COLUMNS)
        _REGISTRY_SQL[connection.vendor] = (
            f"SELECT {columns}, r.{q('updated_at')}, a.{q('code')}, a.{q('name')} "
            f"FROM {q(Registry._meta.db_table)} r JOIN {q(Agency._meta.db_table)} a ON a.{q('id')} = r.{q('agency_id')} "
            f"WHERE r.{q('code')} = %s AND r.{q('version')} = %s AND r.{q('is_active')} = %s")
    with connection.cursor() as cursor:
        cursor.execute(_REGISTRY_SQL[connection.vendor], [code, version, True])
        row = cursor.fetchone()
    if row is None:
        return None
    key = (alias, *row)
    try:
        registry = _REGISTRIES.get(key)
    except TypeError:  # a driver that decodes JSON columns itself gives unhashable values: build every time
        registry, key = None, None
    if registry is None:
        registry = _build_registry(alias, row)
        if key is not None:
            if len(_REGISTRIES) >= _REGISTRIES_MAX:
                _REGISTRIES.clear()
            _REGISTRIES[key] = registry
    return registry


def _build_registry(alias: str, row: tuple):
    from egov.registries.models import Registry

    width = len(_REGISTRY_COLUMNS)
    values = dict(zip(_REGISTRY_COLUMNS, row[:width], strict=True))
    values["schema"] = _json_column(values["schema"])
    values["searchable_fields"] = _json_column(values["searchable_fields"])
    values["protected"], values["is_active"] = bool(values["protected"]), bool(values["is_active"])
    registry = Registry.from_db(alias, list(_REGISTRY_COLUMNS), list(values.values()))
    agency_code, agency_name = row[width + 1:]  # row[width] is updated_at: part of the cache key only
    registry.agency = Agency.from_db(alias, ["id", "code", "name"], [values["agency_id"], agency_code, agency_name])
    return registry


# --- Enterprise registry --------------------------------------------------------------------------------------------

def enterprise_by_code(code: str):
    """The enterprise with this code (typed any way ``rules.parse_enterprise_code`` accepts), with its head office
    unit, or None (also for a code that breaks a rule: callers that must say which rule check it themselves)."""
    from egov.registries import rules
    from egov.registries.models import Enterprise

    try:
        parsed = rules.parse_enterprise_code(code)
    except rules.InvalidEnterpriseCode:
        return None
    return Enterprise.objects.select_related("head_office_unit__parent").filter(code=str(parsed)).first()


def enterprises_represented_by(person_id: int | None) -> list:
    """The enterprises whose legal representative is this person (every status), by code."""
    from egov.registries.models import Enterprise

    if person_id is None:
        return []
    return list(Enterprise.objects.select_related("head_office_unit__parent")
                .filter(legal_representative_id=person_id).order_by("code"))


# --- Agencies by name -----------------------------------------------------------------------------------------------

AGENCY_SEARCH_LIMIT = 20
AGENCY_QUERY_MAX_CHARS = 100   # of the folded query: no agency's name needs more to be told apart
AGENCY_QUERY_MAX_WORDS = 8


@dataclass(frozen=True)
class AgencyMatches:
    agencies: list             # active agencies, parent loaded, best first: at most the limit asked for
    exact: int                 # how many of them are named exactly what was typed (folded); they come first
    more: bool                 # more agencies match than are listed


def search_agencies(q: str, limit: int = AGENCY_SEARCH_LIMIT) -> AgencyMatches:
    """Active agencies by name, ignoring case, diacritics and đ: "so tu phap nghe an" finds "Sở Tư pháp tỉnh Nghệ
    An". Every word must occur in the name (``Agency.folded_name``). Best first: the name is exactly what was typed,
    then names that start with it, then names where it starts a word, then names that hold it, then those that hold
    each word apart; shorter names first within each. One query, as ``search_units``."""
    words = agency_query_words(q)
    if not words:
        return AgencyMatches([], 0, False)
    limit = max(1, min(int(limit), AGENCY_SEARCH_LIMIT))
    phrase = " ".join(words)
    rows = Agency.objects.filter(is_active=True)
    for word in words:
        rows = rows.filter(folded_name__contains=word)
    rank = Case(
        When(folded_name=phrase, then=Value(0)),
        When(folded_name__startswith=phrase, then=Value(1)),
        When(folded_name__contains=" " + phrase, then=Value(2)),
        When(folded_name__contains=phrase, then=Value(3)),
        default=Value(4), output_field=IntegerField())
    found = list(rows.annotate(rank=rank, name_length=Length("folded_name")).select_related("parent")
                 .order_by("rank", "name_length", "code")[:limit + 1])
    # A name changed by update() (no save(), so its folded copy is stale) is never shown under words it lost.
    agencies = [agency for agency in found if all(word in fold(agency.name) for word in words)]
    exact = sum(1 for agency in agencies[:limit] if fold(agency.name) == phrase)
    return AgencyMatches(agencies[:limit], exact, len(found) > limit)


def agency_query_words(q: str) -> list[str]:
    """The folded words a search for ``q`` looks for ([] when there are none): control characters count as spaces,
    and the query is cut to a length no name needs."""
    text = _CONTROL_OR_SPACE.sub(" ", q or "")
    return fold(text)[:AGENCY_QUERY_MAX_CHARS].split()[:AGENCY_QUERY_MAX_WORDS]


def active_agency(code: str):
    """The active agency with this organisation code (with its parent), or None, also for text that is no code."""
    code = (code or "").strip().upper()
    if not _AGENCY_CODE_CHARACTERS.fullmatch(code):
        return None
    return Agency.objects.select_related("parent").filter(code=code, is_active=True).first()
