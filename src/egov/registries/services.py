"""State changes of the base registries. Each function is one business action with its transaction inside."""
import importlib.util
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction

from egov.kernel import ledger
from egov.kernel.text import fold
from egov.registries.models import AdministrativeUnit, Agency, LegacyUnitMapping

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
_AGENCY_FIELDS = _AGENCY_FACTS + ["name", "name_en"]


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
