"""Reads of the base registries."""
from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Length

from egov.kernel.text import fold
from egov.registries.models import AdministrativeUnit, LegacyUnitMapping

Unit = AdministrativeUnit
CURRENT = Unit.Generation.CURRENT
LEGACY = Unit.Generation.LEGACY
MAX_LIMIT = 100

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
