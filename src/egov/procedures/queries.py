"""Reads of the procedure catalogue: which version is in force on a day, for a procedure or for an agency; finding
procedures by words, sector, life event and agency."""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, Subquery

from egov.procedures.models import Procedure, ProcedureLifeEvent, ProcedureVersion, ProcedureWord, search_words
from egov.kernel.caching import kept
from egov.kernel.text import vietnamese_key
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
# Matches are counted up to this many: "more than 200" tells a citizen to narrow the search as well as an exact
# figure would, and a broad search's count stops scanning there.
SEARCH_COUNT_CAP = 200
# The filter lists (sectors, agencies) are reference data that changes with a catalogue import; each web process keeps
# them this many seconds rather than reading them on every search. Staleness only delays a new sector's appearance in
# the drop-down list; pages of results are kept as long (find_procedures).
CHOICES_MAX_AGE_SECONDS = 60
_choices: tuple[float, "SearchChoices"] | None = None


@dataclass(frozen=True)
class SearchChoices:
    sectors: list[str]
    agencies: list[tuple[str, str]]     # (organisation code, name) of agencies implementing a procedure
    provinces: list[tuple[str, str]]    # (code, name) of the current provinces
    # What a page made of these lists (escaped options per language), kept as long as the lists themselves.
    rendered: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def sector_set(self) -> frozenset[str]:
        return frozenset(self.sectors)

    @cached_property
    def agency_set(self) -> frozenset[str]:
        return frozenset(code for code, _ in self.agencies)

    @cached_property
    def province_set(self) -> frozenset[str]:
        return frozenset(code for code, _ in self.provinces)


@dataclass(frozen=True)
class SearchHit:
    """One procedure found, with what the result list shows of its version in force (None before the first)."""
    code: str
    name: str
    sector: str
    online_level: str | None
    duration_days: Decimal | None
    total_fee: int | None


@dataclass
class SearchPage:
    """One page of results; ``total`` counts the matches up to SEARCH_COUNT_CAP (``more`` is True when there are
    more than that); ``next_after`` is the cursor of the next page (None on the last)."""
    procedures: list[SearchHit]
    total: int
    next_after: str | None
    more: bool = False


def search_choices() -> SearchChoices:
    global _choices
    now = time.monotonic()
    if _choices is None or now - _choices[0] > CHOICES_MAX_AGE_SECONDS:
        _choices = (now, _read_choices())
    return _choices[1]


def forget_search_choices() -> None:
    """After an import or any change to the catalogue (and in tests): the next search reads the lists, the word
    counts and the results again (in this process; the others within their max ages)."""
    global _choices, _word_counts, _catalogue_generation
    _choices = None
    _word_counts = None
    _catalogue_generation += 1


# A page of search results is kept in the cache (per web process by default) EGOV_SEARCH_CACHE_SECONDS (60; 0: never)
# under the folded words and the filters: the catalogue changes with an import or a new version, a few times a day,
# while the same few searches ("dang ky khai sinh") come from thousands of citizens; counting a broad search's
# matches costs a few milliseconds of the database each time. A change made in this process is seen at once (the
# generation below is part of the key); in other processes within the max age, as for the filter lists.
_catalogue_generation = 0


def find_procedures(*, text: str = "", sector: str = "", life_event: str = "", agency_code: str = "",
                    province_code: str = "", after: str = "", on: dt.date, limit: int = SEARCH_PAGE_SIZE
                    ) -> SearchPage:
    """``search_procedures``, its pages kept a short while (see above): the search page's read."""
    seconds = settings.SEARCH_CACHE_SECONDS
    arguments = {"text": text, "sector": sector, "life_event": life_event, "agency_code": agency_code,
                 "province_code": province_code, "after": after, "on": on, "limit": limit}
    if seconds <= 0:  # not even the folding of the words for a key
        return search_procedures(**arguments)
    words = " ".join(search_words(text)[:SEARCH_MAX_WORDS])
    key = "procedures.search:" + hashlib.sha256(repr(
        (_catalogue_generation, words, sector, life_event, agency_code, province_code, after, on.isoformat(), limit)
    ).encode()).hexdigest()
    return kept(key, seconds, lambda: search_procedures(**arguments))


# How many procedures have each word, kept by each web process like the filter lists: it only chooses how a search
# is run (from its rarest word, or along the codes), never what it finds, so a stale count costs time, not results.
_word_counts: tuple[float, "WordCounts"] | None = None


@dataclass(frozen=True)
class WordCounts:
    procedures: int
    words: list[str]        # every indexed word, in code-point order (the order of the index)
    cumulative: list[int]   # cumulative[i]: rows of the words before words[i]; one more entry at the end

    def rows(self, low: str, high: str | None = None) -> int:
        """Index rows of the word ``low`` (``high`` None), or of the words in [low, high)."""
        start = bisect.bisect_left(self.words, low)
        end = start + (start < len(self.words) and self.words[start] == low) if high is None \
            else bisect.bisect_left(self.words, high)
        return self.cumulative[end] - self.cumulative[start]


def word_counts() -> WordCounts:
    global _word_counts
    now = time.monotonic()
    if _word_counts is None or now - _word_counts[0] > CHOICES_MAX_AGE_SECONDS:
        _word_counts = (now, _read_word_counts())
    return _word_counts[1]


def _read_word_counts() -> WordCounts:
    counted = sorted(ProcedureWord.objects.values_list("word").annotate(rows=Count("id")).order_by())
    cumulative = [0]
    for _word, rows in counted:
        cumulative.append(cumulative[-1] + rows)
    return WordCounts(procedures=Procedure.objects.count(), words=[word for word, _rows in counted],
                      cumulative=cumulative)


def _read_choices() -> SearchChoices:
    # In Vietnamese alphabetical order ("Đà Nẵng" after "Cà Mau", "Ủy ban" after "Tư pháp"), which no database
    # collation here gives: the lists are short and read once into the cache.
    sectors = sorted(Procedure.objects.values_list("sector", flat=True).distinct().order_by(), key=vietnamese_key)
    implementing = ProcedureVersion.agencies.through.objects.filter(agency_id=OuterRef("pk"))
    agencies = sorted(Agency.objects.filter(Exists(implementing)).values_list("code", "name"),
                      key=lambda row: (vietnamese_key(row[1]), row[0]))
    provinces = sorted(AdministrativeUnit.objects.filter(generation=AdministrativeUnit.Generation.CURRENT,
                                                         level=AdministrativeUnit.Level.PROVINCE)
                       .values_list("code", "name"), key=lambda row: (vietnamese_key(row[1]), row[0]))
    return SearchChoices(sectors=sectors, agencies=agencies, provinces=provinces)


def search_procedures(*, text: str = "", sector: str = "", life_event: str = "", agency_code: str = "",
                      province_code: str = "", after: str = "", on: dt.date, limit: int = SEARCH_PAGE_SIZE
                      ) -> SearchPage:
    """Procedures matching every given filter, in code order, ``limit`` at a time after the code ``after``.

    ``text``: every word must appear in the procedure's code or name, in any order, with or without diacritics
    ("dang ky khai sinh" finds "Đăng ký khai sinh"). ``agency_code``: implemented by that agency (in any version);
    ``province_code``: open to the province's citizens, i.e. implemented by an agency serving that current
    province or one of its communes, or by a central agency (_open_in_province).

    One query: the matches are found in code order up to SEARCH_COUNT_CAP + 1 (the count, by a window over them),
    and only the page's rows get their version in force, from correlated subqueries on the (procedure,
    effective_from) index. A later page (``after``, by key, never by offset) is found the same way after its key,
    and its count, of every match, is a second query. With an agency or province filter, first the ids of those
    agencies (a small table). No N+1. Words are found in the word index (ProcedureWord): see _word_conditions.
    """
    # Written in SQL rather than with the ORM: building and compiling this query through the ORM cost three times
    # the database's own time, on the portal's busiest page. Portable SQL (SQLite and PostgreSQL), parameters only.
    where, params = _search_conditions(text, sector, life_event, agency_code, province_code)
    procedure, version = Procedure._meta.db_table, ProcedureVersion._meta.db_table
    in_force = (f"(SELECT v.{{column}} FROM {version} v WHERE v.procedure_id = page.id AND v.effective_from <= %s "
                f"ORDER BY v.effective_from DESC LIMIT 1)")
    columns = (f"page.code, page.name, page.sector, {in_force.format(column='online_level')}, "
               f"{in_force.format(column='duration_days')}, {in_force.format(column='fees')}")
    if not after:
        found = max(SEARCH_COUNT_CAP, limit) + 1
        sql = (f"SELECT {columns}, page.matches FROM (SELECT found.*, ROW_NUMBER() OVER (ORDER BY found.code) AS n, "
               f"COUNT(*) OVER () AS matches FROM (SELECT p.id, p.code, p.name, p.sector FROM {procedure} p "
               f"WHERE {' AND '.join(where or ['1 = 1'])} ORDER BY p.code LIMIT %s) found) page "
               f"WHERE page.n <= %s ORDER BY page.code")
        arguments = [on, on, on, *params, found, limit + 1]
    else:
        sql = (f"SELECT {columns}, NULL FROM (SELECT p.id, p.code, p.name, p.sector FROM {procedure} p "
               f"WHERE {' AND '.join([*where, 'p.code > %s'])} ORDER BY p.code LIMIT %s) page ORDER BY page.code")
        arguments = [on, on, on, *params, after, limit + 1]
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        rows = cursor.fetchall()
        next_after = rows[limit - 1][0] if len(rows) > limit else None
        hits = [SearchHit(code, name, sector, online_level,
                          None if days is None else Decimal(str(days)).quantize(Decimal("0.01")),
                          None if fees is None else _total_fee(fees))
                for code, name, sector, online_level, days, fees, _matches in rows[:limit]]
        if not after:
            total = rows[0][-1] if rows else 0
        else:
            cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {procedure} p "
                           f"WHERE {' AND '.join(where or ['1 = 1'])} LIMIT %s) matches",
                           [*params, SEARCH_COUNT_CAP + 1])
            total = cursor.fetchone()[0]
    more = total > SEARCH_COUNT_CAP
    return SearchPage(procedures=hits, total=min(total, SEARCH_COUNT_CAP), next_after=next_after, more=more)


def _after_prefix(prefix: str) -> str:
    """The least string above every string that starts with ``prefix`` in code-point order ("cap" -> "caq"): the
    words starting with "cap" are those >= "cap" and < "caq"."""
    return prefix[:-1] + chr(min(ord(prefix[-1]) + 1, 0x10FFFF))


# A candidate from the word index (a lookup of its row, then a sort of the matches by code) costs about as much as
# this many rows walked along the code index (measured by bench/bench_search.py at 5,000 procedures).
CANDIDATE_COST = 4


def _word_conditions(words: list[str], params: list) -> list[str]:
    """The conditions that keep the procedures having every word (the last one as a prefix, perhaps unfinished:
    "dang ky kh"), appending their parameters to ``params``.

    The rarest word's rows in the word index give the candidates when that is cheaper than walking the code index
    (a rare word: "khai sinh"); each candidate's other words are then checked on its row (``p.words LIKE '% ky %'``),
    so the query joins one table whatever the number of words (PostgreSQL spent 20 ms choosing the order of five
    joins, one per word). When the words are common together ("cap giay phep" fills a page within a few hundred
    procedures), walking the codes and checking each row is cheaper, and stops at the page or at the count's cap.
    The word counts (word_counts) only choose between the two; the results are the same and exact."""
    if not words:
        return []
    counts = word_counts()
    terms = []  # (rows in the word index, index condition on w, its parameters, LIKE pattern on p.words)
    for index, word in enumerate(words):
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        if index < len(words) - 1:
            terms.append((counts.rows(word), "w.word = %s", [word], f"% {escaped} %"))
        else:  # the last word may be unfinished: a prefix, a range on the same index
            upper = _after_prefix(word)
            terms.append((counts.rows(word, upper), "w.word >= %s AND w.word < %s", [word, upper], f"% {escaped}%"))
    terms.sort(key=lambda term: term[0])
    procedures = max(counts.procedures, 1)
    matches = procedures
    for rows, *_ in terms:
        matches *= min(rows, procedures) / procedures  # as if the words were independent: a rough guess will do
    walk = procedures if matches <= SEARCH_COUNT_CAP else procedures * (SEARCH_COUNT_CAP + 1) / matches
    where = []
    if terms[0][0] * CANDIDATE_COST < walk:
        rows, condition, term_params, _pattern = terms.pop(0)
        where.append(f"p.id IN (SELECT w.procedure_id FROM {ProcedureWord._meta.db_table} w WHERE {condition})")
        params += term_params
    for _rows, _condition, _params, pattern in terms:
        where.append("p.words LIKE %s ESCAPE '\\'")
        params.append(pattern)
    return where


def _search_conditions(text: str, sector: str, life_event: str, agency_code: str, province_code: str
                       ) -> tuple[list[str], list]:
    """SQL conditions on the procedure ``p`` and their parameters, one per filter given."""
    where, params = [], []
    where += _word_conditions(search_words(text)[:SEARCH_MAX_WORDS], params)
    if sector:
        where.append("p.sector = %s")
        params.append(sector)
    if life_event:
        where.append(f"EXISTS (SELECT 1 FROM {ProcedureLifeEvent._meta.db_table} e "
                     f"WHERE e.procedure_id = p.id AND e.event = %s)")
        params.append(life_event)
    agency_ids = None
    if agency_code:
        agency_ids = set(Agency.objects.filter(code=agency_code).values_list("id", flat=True))
    if province_code:  # the agencies a citizen of the province can apply to: a few, from a small table
        serving = _open_in_province(province_code)
        agency_ids = serving if agency_ids is None else agency_ids & serving
    if agency_ids is not None:
        if not agency_ids:
            where.append("1 = 0")
        else:
            ids = sorted(agency_ids)
            where.append(f"EXISTS (SELECT 1 FROM {ProcedureVersion.agencies.through._meta.db_table} l "
                         f"JOIN {ProcedureVersion._meta.db_table} v ON v.id = l.procedureversion_id "
                         f"WHERE v.procedure_id = p.id AND l.agency_id IN ({', '.join(['%s'] * len(ids))}))")
            params += ids
    return where, params


def _open_in_province(province_code: str) -> set[int]:
    """Ids of the agencies a citizen of the current province ``province_code`` can apply to: those serving the
    province or one of its communes, and the central agencies, which serve the whole country.

    A central agency (a ministry, the Government Office, or one of their units: ``000.00.00.G09``, ``000.00.18.G12``)
    has a level-1 code starting with G (Decision 20/2020; a province's starts with H) and no administrative unit: it
    serves no one place. Without them a province filter hid every national procedure (the passport, issued by the
    Ministry of Public Security, for anyone anywhere). A G unit tied to an administrative unit (a ministry's branch in
    a province) serves that unit only, and an H agency whose unit is not filled in is not national: neither counts."""
    current = AdministrativeUnit.Generation.CURRENT
    in_province = Q(administrative_unit__generation=current) & (
        Q(administrative_unit__code=province_code) | Q(administrative_unit__parent__code=province_code))
    # Codes are stored in upper case (Agency.clean_fields) and only the level-1 part has a letter, after the last dot.
    central = Q(administrative_unit__isnull=True, code__contains=".G")
    return set(Agency.objects.filter(in_province | central).values_list("id", flat=True))


def _total_fee(fees) -> int:
    """The fees of a version (a JSON list; a subquery hands it over as text on some databases) added up, in VND."""
    if isinstance(fees, str):
        fees = json.loads(fees)
    return sum(int(fee.get("amount", 0)) for fee in fees or ())


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
