"""The public statistics page ``/statistics/`` (no sign-in, no personal data) and its CSV export. Thin: parse the
filter, read the figures (``queries``), render."""
import csv
import hashlib
import html
import io
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from egov.dossiers.models import Channel
from egov.kernel.caching import kept
from egov.monitoring import charts, queries

FILTER_FIELDS = ("year", "month", "agency", "province", "procedure", "channel")


def _filter(request) -> tuple[queries.Filter, dict]:
    """The filter of the query string; a bad value is named (and left out) rather than failing the page."""
    values = {name: request.GET.get(name, "").strip()[:40] for name in FILTER_FIELDS}
    errors = {}
    while True:
        try:
            return queries.make_filter(**values), errors
        except queries.InvalidFilter as exc:
            errors[exc.field] = exc.message
            values[exc.field] = ""


def _rows(figures: queries.Figures) -> list[tuple[str, int | str, float | None, bool]]:
    """The table: (label, value, percent, sub-row)."""
    p = figures.percentages
    average = figures.rating_average
    return [
        (_("Dossiers received"), figures.received_total, None, False),
        (_("of which new in the period"), figures.received_new, None, True),
        (_("of which carried over from earlier periods"), figures.carried_over, None, True),
        (_("of which online"), figures.received_online, p["online_share"], True),
        (_("of which filed reusing digitised documents"), figures.reused, p["reuse_share"], True),
        (_("of which with every required document digitised"), figures.digitised, p["digitised_share"], True),
        (_("Dossiers processed"), figures.processed, p["processed"], False),
        (_("early"), figures.processed_early, p["processed_early"], True),
        (_("on time"), figures.processed_on_time, p["processed_on_time"], True),
        (_("late"), figures.processed_late, p["processed_late"], True),
        (_("of which with the result issued electronically"), figures.results_digitised,
         p["results_digitised_share"], True),
        (_("Pending"), figures.pending, p["pending"], False),
        (_("within the deadline"), figures.pending_within, p["pending_within"], True),
        (_("overdue"), figures.pending_overdue, p["pending_overdue"], True),
        (_("Results returned"), figures.delivered, p["delivered"], False),
        (_("Withdrawn"), figures.withdrawn, p["withdrawn"], False),
        (_("Processing stopped"), figures.stopped, p["stopped"], False),
        (_("Not received (refused)"), figures.refused, None, False),
        (_("Satisfaction ratings"), figures.ratings, None, False),
        (_("average score (1 to 5)"), "–" if average is None else f"{average:g}", None, True),
    ]


def _options_html(items) -> str:
    return "".join(f'<option value="{html.escape(str(value))}">{html.escape(str(label))}</option>'
                   for value, label in items)


def _with_selected(options: str, selected) -> SafeString:
    if selected not in (None, ""):
        chosen = f'<option value="{html.escape(str(selected))}">'
        options = options.replace(chosen, chosen[:-1] + " selected>", 1)
    return mark_safe(options)  # noqa: S308 - every value was escaped by _options_html


# The agencies', provinces' and procedures' <option>s, written once per list of choices (queries.choices keeps it a
# few minutes): the template's loop, a few tags per option, was half of the page's time with a hundred agencies.
_data_options: tuple[dict, dict[str, str]] | None = None


def _options(f: queries.Filter) -> dict[str, SafeString]:
    global _data_options
    choices = queries.choices()
    if _data_options is None or _data_options[0] is not choices:
        _data_options = (choices, {
            "province": _options_html(choices["provinces"]),
            "agency": _options_html(choices["agencies"]),
            "procedure": _options_html((code, f"{code} {name}") for code, name in choices["procedures"]),
            "year": _options_html((year, year) for year in choices["years"]),
        })
    written = _data_options[1]
    return {
        "province": _with_selected(written["province"], f.province),
        "agency": _with_selected(written["agency"], f.agency),
        "procedure": _with_selected(written["procedure"], f.procedure),
        "year": _with_selected(written["year"], f.year),
        "channel": _with_selected(_options_html(Channel.choices), f.channel),  # labels follow the language
        "month": _with_selected(_options_html((month, month) for month in range(1, 13)), f.month),
    }


def _figures_html(f: queries.Filter) -> str:
    """The figures, the charts and the month table of a filter, rendered (everything on the page read from the
    roll-ups)."""
    figures, series = queries.page(f)
    labels = [f"{month:%m}" for month, _figures in series]
    processed_chart = online_chart = None
    if series:
        processed_chart = charts.stacked_bars(
            "chart-processed", _("Processed dossiers per month, %(year)s") % {"year": f.year},
            _("Stacked bars per month: early, on time and late. The table above gives the figures."), labels,
            [(_("early"), "bar-early", [s.processed_early for _m, s in series]),
             (_("on time"), "bar-on-time", [s.processed_on_time for _m, s in series]),
             (_("late"), "bar-late", [s.processed_late for _m, s in series])])
        online_chart = charts.percent_bars(
            "chart-online", _("Online share of received dossiers per month, %(year)s") % {"year": f.year},
            _("One bar per month: the percentage of new dossiers received online."), labels,
            [s.percentages["online_share"] for _m, s in series])
    query = urlencode({name: value for name in FILTER_FIELDS if (value := getattr(f, name)) not in (None, "")})
    return render_to_string("monitoring/statistics_figures.html", {
        "f": f, "figures": figures, "rows": _rows(figures), "processed_chart": processed_chart,
        "online_chart": online_chart, "series": series, "query": query, "now": timezone.localtime()})


def _cached_figures_html(f: queries.Filter) -> str:
    """``_figures_html``, kept EGOV_STATISTICS_CACHE_SECONDS (default 60) per filter and language in the cache: the
    page is public, the same for every visitor, and its figures follow the roll-ups, which a ledger consumer keeps
    up to date seconds behind the dossiers anyway; the page says as of when its pending figures stand."""
    key = "monitoring.page:" + hashlib.sha256(repr((f, get_language())).encode()).hexdigest()
    return kept(key, settings.STATISTICS_CACHE_SECONDS, lambda: _figures_html(f))


@require_GET
def statistics_page(request):
    f, errors = _filter(request)
    return render(request, "monitoring/statistics.html", {
        "f": f, "errors": errors, "options": _options(f),
        "figures_html": mark_safe(_cached_figures_html(f)),  # noqa: S308 - rendered by the template engine
    }, status=400 if errors else 200)


CSV_HEADERS = [
    "Kỳ", "Tổng số tiếp nhận", "Mới tiếp nhận", "Từ kỳ trước chuyển qua", "Tiếp nhận trực tuyến", "Tỷ lệ trực tuyến (%)",
    "Đã giải quyết", "Trước hạn", "Đúng hạn", "Quá hạn", "Tỷ lệ đúng hạn (%)", "Đang giải quyết", "Trong hạn",
    "Quá hạn (đang giải quyết)", "Đã trả kết quả", "Rút hồ sơ", "Dừng xử lý", "Không được tiếp nhận",
    "Số lượt đánh giá", "Điểm hài lòng trung bình", "Tiếp nhận có sử dụng lại dữ liệu số hóa",
    "Tỷ lệ sử dụng lại dữ liệu số hóa (%)", "Tiếp nhận có hồ sơ số hóa đầy đủ", "Tỷ lệ số hóa hồ sơ (%)",
    "Giải quyết có kết quả điện tử", "Tỷ lệ số hóa kết quả (%)",
]


def _csv_row(period: str, s: queries.Figures) -> list:
    def pct(value):
        return "" if value is None else f"{value:g}"

    return [period, s.received_total, s.received_new, s.carried_over, s.received_online,
            pct(s.percentages["online_share"]), s.processed, s.processed_early, s.processed_on_time,
            s.processed_late, pct(s.percentages["processed_in_time"]), s.pending, s.pending_within,
            s.pending_overdue, s.delivered, s.withdrawn, s.stopped, s.refused, s.ratings,
            "" if s.rating_average is None else f"{s.rating_average:g}", s.reused, pct(s.percentages["reuse_share"]),
            s.digitised, pct(s.percentages["digitised_share"]), s.results_digitised,
            pct(s.percentages["results_digitised_share"])]


@require_GET
def statistics_csv(request):
    """The figures as CSV for a spreadsheet: UTF-8 with a BOM (Excel then reads Vietnamese right), Vietnamese
    headers; a year gives one row per month and the year's total."""
    f, errors = _filter(request)
    if errors:
        return HttpResponse("\n".join(errors.values()), status=400, content_type="text/plain; charset=utf-8")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADERS)
    if f.month is None:
        for month, s in queries.monthly(f):
            writer.writerow(_csv_row(f"{month:%m/%Y}", s))
        writer.writerow(_csv_row(f"Năm {f.year}", queries.figures(f)))
    else:
        writer.writerow(_csv_row(f"{f.month:02d}/{f.year}", queries.figures(f)))
    name = f"thong-ke-{f.year}" + (f"-{f.month:02d}" if f.month else "")
    response = HttpResponse(("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
