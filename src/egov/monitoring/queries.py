"""Reads of the service statistics: a few indexed queries on the roll-up tables, never on dossiers.

A filter names agencies (one agency, or a province: the agencies whose organisation code ends with the province's
level-1 part, e.g. ``H29``, and those serving the province's administrative unit or one of its communes), a
procedure, a channel and a period (a month, or a year = the sum of its months).
"""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from egov.dossiers.models import Channel
from egov.kernel.caching import kept
from egov.kernel.text import vietnamese_key
from egov.monitoring import rules
from egov.monitoring.models import COUNTERS, AgencyMonthlyFigures, DossierFact, MonthlyFigures
from egov.procedures.models import Procedure
from egov.registries.models import Agency

PROVINCE_PART = re.compile(r"^[GH]\d{2}$")


class InvalidFilter(ValueError):
    """A filter value that names nothing (an unknown agency, procedure or channel, a month without a year...)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Filter:
    year: int
    month: int | None = None        # None: the whole year
    agency: str = ""                # organisation code
    province: str = ""              # level-1 part of organisation codes, e.g. H29
    procedure: str = ""             # procedure code, e.g. 1.000656
    channel: int | None = None      # 1 in person, 2 online, 3 post
    # Resolved once by make_filter (every query of a page reuses them): the agencies' ids (None: all agencies) and
    # the procedure's id.
    agency_ids: tuple[int, ...] | None = None
    procedure_id: int | None = None

    @property
    def first_month(self) -> dt.date:
        return dt.date(self.year, self.month or 1, 1)

    @property
    def last_month(self) -> dt.date:
        return dt.date(self.year, self.month or 12, 1)


def make_filter(*, year=None, month=None, agency="", province="", procedure="", channel=None,
                today: dt.date | None = None) -> Filter:
    """A checked filter from loose input (query parameters): InvalidFilter names the first bad field."""
    today = today or timezone.localdate()

    def number(name, value, low, high):
        if value in (None, ""):
            return None
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise InvalidFilter(name, _("Enter a whole number.")) from None
        if not low <= n <= high:
            raise InvalidFilter(name, _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high})
        return n

    year_n = number("year", year, 2000, 2100) or today.year
    month_n = number("month", month, 1, 12)
    channel_n = number("channel", channel, 1, 3)
    if channel_n is not None and channel_n not in Channel.values:
        raise InvalidFilter("channel", _("Choose a channel: 1 in person, 2 online, 3 by post."))
    agency, province, procedure = (str(agency or "").strip().upper(), str(province or "").strip().upper(),
                                   str(procedure or "").strip())
    if agency and not Agency.objects.filter(code=agency).exists():
        raise InvalidFilter("agency", _("No agency has the code %(code)s.") % {"code": agency})
    if province and not PROVINCE_PART.match(province):
        raise InvalidFilter("province", _("Choose a province by the last part of its organisation code, e.g. H29."))
    procedure_id = None
    if procedure:
        procedure_id = Procedure.objects.filter(code=procedure).values_list("id", flat=True).first()
        if procedure_id is None:
            raise InvalidFilter("procedure", _("No procedure has the code %(code)s.") % {"code": procedure})
    ids = _agency_ids(agency, province)
    return Filter(year=year_n, month=month_n, agency=agency, province=province, procedure=procedure,
                  channel=channel_n, agency_ids=None if ids is None else tuple(sorted(ids)), procedure_id=procedure_id)


def _agency_ids(agency: str, province: str) -> set[int] | None:
    """The agencies the filter names (None: all). A small table, read once per request (by make_filter), kept in
    the cache as long as the page's figures (EGOV_STATISTICS_CACHE_SECONDS)."""
    if not agency and not province:
        return None
    return kept(f"monitoring.agencies:{agency}:{province}", settings.STATISTICS_CACHE_SECONDS,
                lambda: _read_agency_ids(agency, province))


def _read_agency_ids(agency: str, province: str) -> set[int] | None:
    ids = None
    if agency:
        ids = set(Agency.objects.filter(code=agency).values_list("id", flat=True))
    if province:
        province_agency = Agency.objects.filter(code=f"000.00.00.{province}").first()
        condition = Q(code__endswith=f".{province}")
        if province_agency is not None and province_agency.administrative_unit_id:
            unit = province_agency.administrative_unit_id
            condition |= Q(administrative_unit_id=unit) | Q(administrative_unit__parent_id=unit)
        serving = set(Agency.objects.filter(condition).values_list("id", flat=True))
        ids = serving if ids is None else ids & serving
    return ids


def _scope(queryset, f: Filter):
    if f.agency_ids is not None:
        queryset = queryset.filter(agency_id__in=f.agency_ids)
    if f.procedure_id is not None:
        queryset = queryset.filter(procedure_id=f.procedure_id)
    if f.channel is not None:
        queryset = queryset.filter(channel=f.channel)
    return queryset


def _rollup(f: Filter):
    """The roll-up rows of the filter, and whether they are the per-agency ones (which count online receptions in
    their own column): without a procedure or a channel, the per-agency table, a dozen rows per agency and year."""
    if f.procedure or f.channel is not None:
        return _scope(MonthlyFigures.objects.all(), f), False
    return _scope(AgencyMonthlyFigures.objects.all(), f), True


def _sums(queryset, names=COUNTERS) -> dict[str, int]:
    row = queryset.aggregate(**{name: Sum(name) for name in names})
    return {name: row[name] or 0 for name in names}


@dataclass
class Figures:
    """The figures of one filter and period, with the percentages computed when read."""
    received_new: int = 0
    carried_over: int = 0
    processed_early: int = 0
    processed_on_time: int = 0
    processed_late: int = 0
    pending_within: int = 0
    pending_overdue: int = 0
    delivered: int = 0
    withdrawn: int = 0
    stopped: int = 0
    refused: int = 0
    received_online: int = 0
    ratings: int = 0
    rating_sum: int = 0
    reused: int = 0  # of the new dossiers, those filed reusing digitised documents from the applicant's data store
    digitised: int = 0  # of the new dossiers, those whose required components are all held electronically
    results_digitised: int = 0  # of the processed dossiers, those whose result was issued electronically
    as_of: str = "period end"  # "period end" or "now" (the current period: pending as it stands now)
    percentages: dict = field(default_factory=dict)

    @property
    def received_total(self) -> int:
        return self.received_new + self.carried_over

    @property
    def processed(self) -> int:
        return self.processed_early + self.processed_on_time + self.processed_late

    @property
    def pending(self) -> int:
        return self.pending_within + self.pending_overdue

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.ratings, 2) if self.ratings else None

    def compute_percentages(self) -> None:
        p, total = rules.percent, self.received_total
        self.percentages = {
            "processed": p(self.processed, total), "pending": p(self.pending, total),
            "withdrawn": p(self.withdrawn, total), "stopped": p(self.stopped, total),
            "processed_early": p(self.processed_early, self.processed),
            "processed_on_time": p(self.processed_on_time, self.processed),
            "processed_late": p(self.processed_late, self.processed),
            "processed_in_time": p(self.processed_early + self.processed_on_time, self.processed),
            "pending_within": p(self.pending_within, self.pending),
            "pending_overdue": p(self.pending_overdue, self.pending),
            "delivered": p(self.delivered, self.processed),
            "online_share": p(self.received_online, self.received_new),
            "reuse_share": p(self.reused, self.received_new),
            "digitised_share": p(self.digitised, self.received_new),
            "results_digitised_share": p(self.results_digitised, self.processed),
        }

    def as_dict(self) -> dict:
        return {
            "received": {"total": self.received_total, "new": self.received_new, "carried_over": self.carried_over,
                         "online": self.received_online},
            "processed": {"total": self.processed, "early": self.processed_early, "on_time": self.processed_on_time,
                          "late": self.processed_late},
            "pending": {"total": self.pending, "within_deadline": self.pending_within,
                        "overdue": self.pending_overdue, "as_of": self.as_of},
            "delivered": self.delivered, "withdrawn": self.withdrawn, "stopped": self.stopped,
            "refused": self.refused,
            "satisfaction": {"ratings": self.ratings, "average": self.rating_average},
            "digitisation": {"reused": self.reused, "digitised": self.digitised,
                             "results_digitised": self.results_digitised},
            "percentages": self.percentages,
        }


def overdue_now(f: Filter, now: dt.datetime) -> int:
    """Dossiers of the filter pending now past their appointment (one count on the open facts' index). A page that
    shows both the figures and the months reads it once and hands it to both."""
    return _scope(DossierFact.objects.filter(is_open=True, overdue_from__lt=now), f).count()


@dataclass
class _Flows:
    """The flow counters of a filter per month, up to a last month (one grouped query), online receptions apart."""
    counters: dict[dt.date, dict[str, int]]
    online: dict[dt.date, int]

    def sums(self, low: dt.date | None, high: dt.date) -> dict[str, int]:
        """The counters summed over the months in [low, high] (low None: from the beginning)."""
        total = dict.fromkeys((*COUNTERS, "online"), 0)
        for month, counters in self.counters.items():
            if (low is None or month >= low) and month <= high:
                for name in COUNTERS:
                    total[name] += counters[name]
                total["online"] += self.online.get(month, 0)
        return total


def _flows(f: Filter, last: dt.date) -> _Flows:
    rows, by_agency = _rollup(f)
    names = (*COUNTERS, "received_online") if by_agency else COUNTERS
    groups = ("month",) if by_agency else ("month", "channel")
    counters: dict[dt.date, dict[str, int]] = {}
    online: dict[dt.date, int] = {}
    for row in (rows.filter(month__lte=last).values(*groups).annotate(**{f"sum_{n}": Sum(n) for n in names})
                .order_by()):
        month = row["month"]
        sums = counters.setdefault(month, dict.fromkeys(COUNTERS, 0))
        for name in COUNTERS:
            sums[name] += row[f"sum_{name}"] or 0
        if by_agency:
            online[month] = online.get(month, 0) + (row["sum_received_online"] or 0)
        elif row["channel"] == Channel.ONLINE:
            online[month] = online.get(month, 0) + (row["sum_received"] or 0)
    return _Flows(counters, online)


def _figures_of(during: dict[str, int], *, carried: int) -> Figures:
    return Figures(
        received_new=during["received"], carried_over=carried, processed_early=during["early"],
        processed_on_time=during["on_time"], processed_late=during["late"], delivered=during["delivered"],
        withdrawn=during["withdrawn"], stopped=during["stopped"], refused=during["refused"],
        received_online=during["online"], ratings=during["ratings"], rating_sum=during["rating_sum"],
        reused=during["reused"], digitised=during["digitised"], results_digitised=during["results_digitised"])


def figures(f: Filter, *, now: dt.datetime | None = None, overdue: int | None = None,
            flows: _Flows | None = None) -> Figures:
    """The figures of DOMAIN.md's "Statistics" for a filter: flows summed over the period's months; stocks (carried
    over, pending) as running sums of the flows; pending "now" for the current period (overdue as of this instant).
    ``overdue`` (``overdue_now``) and ``flows`` may come already read (``page``)."""
    now = now or timezone.now()
    first, last = f.first_month, f.last_month
    flows = flows or _flows(f, last)
    before = flows.sums(None, rules.previous_month(first))
    during = flows.sums(first, last)
    carried = before["received"] - before["closed"]
    pending = carried + during["received"] - during["closed"]
    result = _figures_of(during, carried=carried)
    if rules.month_of(now) <= last:
        # The current (or a future) period: pending is what stands now, overdue as of this instant.
        result.as_of = "now"
        standing = flows.sums(None, rules.month_of(now))
        pending = standing["received"] - standing["closed"]
        overdue = overdue_now(f, now) if overdue is None else overdue
    else:
        overdue = (before["overdue_opened"] - before["overdue_closed"]
                   + during["overdue_opened"] - during["overdue_closed"])
    result.pending_overdue = overdue
    result.pending_within = pending - overdue
    result.compute_percentages()
    return result


def monthly(f: Filter, *, now: dt.datetime | None = None, overdue: int | None = None,
            flows: _Flows | None = None) -> list[tuple[dt.date, Figures]]:
    """The figures of each month of the filter's year (for the charts and the CSV), up to the current month: one
    grouped query for the flows, running sums for the stocks, and the open dossiers' overdue count for this month."""
    now = now or timezone.now()
    this_month = rules.month_of(now)
    flows = flows or _flows(f, dt.date(f.year, 12, 1))
    zero = dict.fromkeys(COUNTERS, 0)
    pending = running_overdue = 0
    for month in sorted(m for m in flows.counters if m.year < f.year):
        pending += flows.counters[month]["received"] - flows.counters[month]["closed"]
        running_overdue += flows.counters[month]["overdue_opened"] - flows.counters[month]["overdue_closed"]
    result = []
    for number in range(1, 13):
        month = dt.date(f.year, number, 1)
        if month > this_month:
            break
        during = {**flows.counters.get(month, zero), "online": flows.online.get(month, 0)}
        carried = pending
        pending += during["received"] - during["closed"]
        running_overdue += during["overdue_opened"] - during["overdue_closed"]
        figures_of_month = _figures_of(during, carried=carried)
        shown_overdue = running_overdue
        if month == this_month:
            figures_of_month.as_of = "now"
            shown_overdue = overdue_now(f, now) if overdue is None else overdue
        figures_of_month.pending_overdue = shown_overdue
        figures_of_month.pending_within = pending - shown_overdue
        figures_of_month.compute_percentages()
        result.append((month, figures_of_month))
    return result


def page(f: Filter, *, now: dt.datetime | None = None) -> tuple[Figures, list[tuple[dt.date, Figures]]]:
    """The statistics page: the period's figures and, for a year, its months, from one grouped query of the
    roll-ups and at most one count of the open dossiers overdue now."""
    now = now or timezone.now()
    this_month = rules.month_of(now)
    overdue = overdue_now(f, now) if this_month <= f.last_month else None
    flows = _flows(f, dt.date(f.year, 12, 1))
    series = monthly(f, now=now, overdue=overdue, flows=flows) if f.month is None else []
    return figures(f, now=now, overdue=overdue, flows=flows), series


CHOICES_MAX_AGE_SECONDS = 300
_choices: tuple[float, dict] | None = None


def choices() -> dict:
    """What the filters offer: agencies and procedures that have figures, the provinces of those agencies. The same
    for every visitor and slow to change: kept for a few minutes per process (a cache, not state: any process may
    read it afresh)."""
    global _choices
    now = time.monotonic()
    if _choices is None or now - _choices[0] > CHOICES_MAX_AGE_SECONDS:
        _choices = (now, _read_choices())
    return _choices[1]


def _read_choices() -> dict:
    agency_ids = set(MonthlyFigures.objects.values_list("agency_id", flat=True).distinct())
    procedure_ids = set(MonthlyFigures.objects.values_list("procedure_id", flat=True).distinct())
    agencies = list(Agency.objects.filter(id__in=agency_ids).order_by("code").values_list("code", "name"))
    parts = sorted({code.rsplit(".", 1)[-1] for code, _ in agencies})
    # A province by its name ("Thành phố Hồ Chí Minh"): the administrative unit of its People's Committee (000.00.00.
    # <part>), else that agency's name, else the code's part alone; in Vietnamese alphabetical order.
    names = {code: unit or name for code, name, unit in Agency.objects.filter(
        code__in=[f"000.00.00.{part}" for part in parts]).values_list("code", "name", "administrative_unit__name")}
    provinces = sorted(((part, names.get(f"000.00.00.{part}", part)) for part in parts),
                       key=lambda row: (vietnamese_key(row[1]), row[0]))
    procedures = list(Procedure.objects.filter(id__in=procedure_ids).order_by("code").values_list("code", "name"))
    years = sorted({d.year for d in MonthlyFigures.objects.dates("month", "year")} | {timezone.localdate().year},
                   reverse=True)
    return {"agencies": agencies, "provinces": provinces, "procedures": procedures, "years": years}
