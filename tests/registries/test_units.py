"""Administrative units from the pinned vietnamadminunits package: counts, codes, legacy mapping, search."""
from collections import Counter

from egov.kernel.models import Event
from egov.registries import queries, services
from egov.registries.models import AdministrativeUnit, LegacyUnitMapping

Unit = AdministrativeUnit
CURRENT, LEGACY = Unit.Generation.CURRENT, Unit.Generation.LEGACY

# Decision 19/2025/QĐ-TTg, as listed in DOMAIN.md.
PROVINCE_CODES_2025 = ["01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "31", "33", "37",
                       "38", "40", "42", "44", "46", "48", "51", "52", "56", "66", "68", "75", "79", "80", "82",
                       "86", "91", "92", "96"]


def test_current_units_match_decision_19_2025(units):
    provinces = Unit.objects.filter(generation=CURRENT, level=Unit.Level.PROVINCE)
    communes = Unit.objects.filter(generation=CURRENT, level=Unit.Level.COMMUNE)
    assert sorted(provinces.values_list("code", flat=True)) == PROVINCE_CODES_2025
    assert communes.count() == 3321
    assert Counter(communes.values_list("kind", flat=True)) == {"xã": 2621, "phường": 687, "đặc khu": 13}
    assert Counter(provinces.values_list("kind", flat=True)) == {"tỉnh": 28, "thành phố": 6}
    assert not Unit.objects.filter(generation=CURRENT, level=Unit.Level.DISTRICT).exists()  # no district level
    # Codes: 2 digits for provinces, 5 for communes, unique; every commune sits directly in a province.
    assert all(len(code) == 2 and code.isdigit() for code in provinces.values_list("code", flat=True))
    commune_codes = list(communes.values_list("code", flat=True))
    assert all(len(code) == 5 and code.isdigit() for code in commune_codes)
    assert len(set(commune_codes)) == len(commune_codes)
    assert not communes.exclude(parent__level=Unit.Level.PROVINCE, parent__generation=CURRENT).exists()
    hong_ha = Unit.objects.get(generation=CURRENT, code="00097")
    assert (hong_ha.name, hong_ha.short_name, hong_ha.kind, hong_ha.parent.code) == ("Phường Hồng Hà", "Hồng Hà",
                                                                                     "phường", "01")
    assert hong_ha.full_name == "Phường Hồng Hà, Thành phố Hà Nội"


def test_legacy_units_keep_three_levels(units):
    legacy = Unit.objects.filter(generation=LEGACY)
    assert legacy.filter(level=Unit.Level.PROVINCE).count() == 63
    assert legacy.filter(level=Unit.Level.DISTRICT).count() == 696
    assert legacy.filter(level=Unit.Level.COMMUNE).count() == 10035
    assert not legacy.filter(level=Unit.Level.COMMUNE).exclude(parent__level=Unit.Level.DISTRICT).exists()
    assert not legacy.filter(level=Unit.Level.DISTRICT).exclude(parent__level=Unit.Level.PROVINCE).exists()
    # Codes overlap across generations (province 01 exists in both), never within one.
    codes = list(Unit.objects.values_list("generation", "code"))
    assert len(set(codes)) == len(codes)
    assert Unit.objects.filter(code="01").count() == 2


def test_every_legacy_commune_has_exactly_one_default_successor(units):
    legacy_communes = Unit.objects.filter(generation=LEGACY, level=Unit.Level.COMMUNE)
    defaults = LegacyUnitMapping.objects.filter(legacy_unit__level=Unit.Level.COMMUNE, is_default=True)
    assert defaults.count() == legacy_communes.count()
    assert defaults.values("legacy_unit").distinct().count() == legacy_communes.count()
    # Every new commune has at least one predecessor, and no mapping points at a legacy unit.
    assert LegacyUnitMapping.objects.values("new_commune").distinct().count() == 3321 + 1  # + None (province rows)
    assert not LegacyUnitMapping.objects.exclude(new_province__generation=CURRENT).exists()


def test_old_addresses_resolve_to_their_new_units(units):
    # Phường Phúc Xá (Ba Đình, Hà Nội) became part of Phường Hồng Hà on 1 July 2025.
    phuc_xa = Unit.objects.get(generation=LEGACY, code="00001")
    assert phuc_xa.name == "Phường Phúc Xá"
    assert queries.successor_of(phuc_xa).code == "00097"
    assert queries.resolve_legacy_address("Phường Phúc Xá, Quận Ba Đình, Hà Nội").name == "Phường Hồng Hà"
    # Free text without diacritics and with abbreviations, as old records often have it.
    nha_be = queries.resolve_legacy_address("xa phuoc kien, huyen nha be, tp hcm")
    assert (nha_be.name, nha_be.parent.name) == ("Xã Nhà Bè", "Thành phố Hồ Chí Minh")
    # A legacy province resolves to the province it merged into: Bình Dương (74) into Hồ Chí Minh City (79).
    assert queries.successor_of(Unit.objects.get(generation=LEGACY, code="74")).code == "79"
    # An island district without communes maps as a whole: Côn Đảo became a special zone (đặc khu).
    con_dao = Unit.objects.get(generation=LEGACY, level=Unit.Level.DISTRICT, name="Huyện Côn Đảo")
    assert queries.successor_of(con_dao).name == "Đặc khu Côn Đảo"
    # A district alone names no single new commune: its province answers.
    assert queries.resolve_legacy_address("Quận 1, TP HCM").code == "79"
    assert queries.resolve_legacy_address("no such place at all") is None
    assert queries.resolve_legacy_address("") is None


def test_split_commune_lists_every_successor_default_first(units):
    split = (LegacyUnitMapping.objects.filter(is_default=False).select_related("legacy_unit").first().legacy_unit)
    successors = queries.legacy_successors(split)
    assert len(successors) >= 2
    assert successors[0].is_default and not any(m.is_default for m in successors[1:])


SEARCH_EXAMPLES = [
    ("da nang", "Thành phố Đà Nẵng"),
    ("Đà Nẵng", "Thành phố Đà Nẵng"),
    ("DA NANG", "Thành phố Đà Nẵng"),
    ("ho chi minh", "Thành phố Hồ Chí Minh"),
    ("hong ha", "Phường Hồng Hà"),
    ("phuong hong ha", "Phường Hồng Hà"),
    ("con dao", "Đặc khu Côn Đảo"),
]


def test_search_folds_diacritics_and_d(units):
    # One test for all examples: loading the units is the expensive part.
    found = {query: queries.search_units(query)[0].name for query, _ in SEARCH_EXAMPLES}
    assert found == dict(SEARCH_EXAMPLES)


def test_search_options(units):
    assert queries.search_units("") == [] and queries.search_units("   ") == []
    assert len(queries.search_units("xa", limit=5)) == 5
    assert len(queries.search_units("xa", limit=10_000)) == queries.MAX_LIMIT
    assert all(u.generation == LEGACY for u in queries.search_units("phuc xa", generation=LEGACY))
    assert queries.search_units("phuc xa", generation=LEGACY)[0].code == "00001"
    assert {u.level for u in queries.search_units("ha noi", level=Unit.Level.COMMUNE)} <= {Unit.Level.COMMUNE}


def test_loading_again_changes_nothing(units):
    assert units.loaded
    loaded_events = Event.objects.filter(event_type="registries.units_loaded")
    assert loaded_events.count() == 1
    assert loaded_events.get().payload["counts"]["current_communes"] == 3321
    ids_before = dict(Unit.objects.values_list("code", "id").filter(generation=CURRENT))

    again = services.load_administrative_units()
    assert not again.loaded and again.counts == units.counts
    assert loaded_events.count() == 1

    forced = services.load_administrative_units(force=True)  # upserts in place: ids stay, nothing doubles
    assert forced.loaded
    assert dict(Unit.objects.values_list("code", "id").filter(generation=CURRENT)) == ids_before
    assert Unit.objects.count() == 34 + 3321 + 63 + 696 + 10035
    assert LegacyUnitMapping.objects.count() == units.counts["mappings"]


def test_a_renamed_unit_is_repaired_by_the_next_load(units):
    Unit.objects.filter(generation=CURRENT, code="00097").update(name="Wrong", folded_name="wrong")
    Unit.objects.filter(generation=LEGACY, code="00001").delete()  # cascades to its mappings: counts now differ
    assert services.load_administrative_units().loaded
    assert Unit.objects.get(generation=CURRENT, code="00097").name == "Phường Hồng Hà"
    assert queries.successor_of(Unit.objects.get(generation=LEGACY, code="00001")).code == "00097"
