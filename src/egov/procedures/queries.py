"""Reads of the procedure catalogue: which version is in force on a day, for a procedure or for an agency; finding
procedures by words, sector, life event and agency."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, Subquery

from egov.kernel.text import fold
from egov.procedures.models import Procedure, ProcedureVersion
from egov.registries.models import AdministrativeUnit, Agency


def procedure_by_code(code: str) -> Procedure | None:
    """Thủ tục by its national code (``1.001193``), or None."""
    return Procedure.objects.filter(code=(code or "").strip()).first()


def version_in_force(procedure: Procedure, on: dt.date) -> ProcedureVersion | None:
    """The version in force on ``on``: the latest one effective on or before that day (None before the first)."""
    return (ProcedureVersion.objects.filter(procedure=procedure, effective_from__lte=on)
            .select_related("procedure").order_by("-effective_from").first())


def versions_in_force(on: dt.date, *, agency=None) -> list[ProcedureVersion]:
    """The current version of every procedure on ``on`` (of every procedure ``agency`` implements in that version,
    when given), ordered by procedure code. One query, whatever the catalogue's size."""
    latest = (ProcedureVersion.objects.filter(procedure=OuterRef("procedure"), effective_from__lte=on)
              .order_by("-effective_from").values("effective_from")[:1])
    versions = (ProcedureVersion.objects.filter(effective_from__lte=on)
                .filter(effective_from=Subquery(latest)).select_related("procedure"))
    if agency is not None:
        versions = versions.filter(agencies=agency)
    return list(versions.order_by("procedure__code"))


def latest_version_number(procedure: Procedure) -> int:
    return procedure.versions.aggregate(number=Max("version"))["number"] or 0


# --- Finding procedures (tra cứu thủ tục) -----------------------------------------------------------------------------

SEARCH_PAGE_SIZE = 20
SEARCH_MAX_WORDS = 12
# The filter lists (sectors, agencies) are reference data that changes with a catalogue import; each web process keeps
# them this many seconds rather than reading them on every search. Staleness only delays a new sector's appearance in
# the drop-down list; the search itself always reads the database.
CHOICES_MAX_AGE_SECONDS = 60
_choices: tuple[float, "SearchChoices"] | None = None


@dataclass(frozen=True)
class SearchChoices:
    sectors: list[str]
    agencies: list[tuple[str, str]]     # (organisation code, name) of agencies implementing a procedure
    provinces: list[tuple[str, str]]    # (code, name) of the current provinces


@dataclass
class SearchPage:
    """One page of results: ``procedures`` each carry ``current`` (the version in force, or None before the first);
    ``total`` counts every match; ``next_after`` is the cursor of the next page (None on the last)."""
    procedures: list[Procedure]
    total: int
    next_after: str | None


def search_choices() -> SearchChoices:
    global _choices
    now = time.monotonic()
    if _choices is None or now - _choices[0] > CHOICES_MAX_AGE_SECONDS:
        _choices = (now, _read_choices())
    return _choices[1]


def forget_search_choices() -> None:
    """After an import (and in tests): the next search reads the lists again."""
    global _choices
    _choices = None


def _read_choices() -> SearchChoices:
    sectors = list(Procedure.objects.order_by("sector").values_list("sector", flat=True).distinct())
    implementing = ProcedureVersion.agencies.through.objects.filter(agency_id=OuterRef("pk"))
    agencies = list(Agency.objects.filter(Exists(implementing)).order_by("name").values_list("code", "name"))
    provinces = list(AdministrativeUnit.objects.filter(generation=AdministrativeUnit.Generation.CURRENT,
                                                       level=AdministrativeUnit.Level.PROVINCE)
                     .order_by("name").values_list("code", "name"))
    return SearchChoices(sectors=sectors, agencies=agencies, provinces=provinces)


def search_procedures(*, text: str = "", sector: str = "", life_event: str = "", agency_code: str = "",
                      province_code: str = "", after: str = "", on: dt.date, limit: int = SEARCH_PAGE_SIZE
                      ) -> SearchPage:
    """Procedures matching every given filter, in code order, ``limit`` at a time after the code ``after``.

    ``text``: every word must appear in the procedure's code or name, in any order, with or without diacritics
    ("dang ky khai sinh" finds "Đăng ký khai sinh"). ``agency_code``: implemented by that agency (in any version);
    ``province_code``: implemented by an agency serving that current province or one of its communes. Three queries
    whatever the catalogue's size: the count, the page (by key, never by offset) and the page's versions in force.
    """
    procedures = Procedure.objects.all()
    for word in fold(text).split()[:SEARCH_MAX_WORDS]:
        procedures = procedures.filter(search_text__contains=word)
    if sector:
        procedures = procedures.filter(sector=sector)
    if life_event:
        procedures = procedures.filter(life_event_tags__event=life_event)  # unique per procedure: no duplicates
    links = ProcedureVersion.agencies.through.objects.filter(procedureversion__procedure_id=OuterRef("pk"))
    if agency_code:
        procedures = procedures.filter(Exists(links.filter(agency__code=agency_code)))
    if province_code:
        unit = Q(agency__administrative_unit__code=province_code) | Q(
            agency__administrative_unit__parent__code=province_code)
        procedures = procedures.filter(Exists(links.filter(
            unit, agency__administrative_unit__generation=AdministrativeUnit.Generation.CURRENT)))
    total = procedures.count()
    page = list(procedures.filter(code__gt=after).order_by("code")
                .only("id", "code", "name", "sector")[:limit + 1]) if total else []
    next_after = page[limit - 1].code if len(page) > limit else None
    page = page[:limit]
    current: dict[int, ProcedureVersion] = {}
    if page:
        for version in (ProcedureVersion.objects.filter(procedure_id__in=[p.id for p in page], effective_from__lte=on)
                        .only("id", "procedure_id", "effective_from", "level", "online_level", "duration_days",
                              "fees").order_by("procedure_id", "-effective_from")):
            current.setdefault(version.procedure_id, version)
    for procedure in page:
        procedure.current = current.get(procedure.id)
    return SearchPage(procedures=page, total=total, next_after=next_after)


def procedure_page(code: str, on: dt.date) -> tuple[Procedure, ProcedureVersion | None] | None:
    """The procedure with the code and its version in force on ``on`` (agencies with their units prefetched), or
    None when no procedure has that code."""
    procedure = Procedure.objects.prefetch_related("life_event_tags").filter(code=(code or "").strip()).first()
    if procedure is None:
        return None
    version = (ProcedureVersion.objects.filter(procedure=procedure, effective_from__lte=on)
               .prefetch_related(Prefetch("agencies", queryset=Agency.objects.select_related(
                   "administrative_unit__parent").order_by("code")))
               .order_by("-effective_from").first())
    return procedure, version


def procedure_names(codes: list[str]) -> dict[str, str]:
    """{code: name} of the procedures with these codes (to name a reusable earlier result): one query."""
    return dict(Procedure.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
