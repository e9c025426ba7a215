"""Public portal pages (cổng dịch vụ công) and the site-wide error pages. Views stay thin: read, then render."""
from dataclasses import dataclass

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.csrf import csrf_exempt, requires_csrf_token

from egov.kernel.paging import row_id
from egov.accounts.models import Role
from egov.accounts.views import assurance_required
from egov.portal import queries
from egov.portal.catalogue_views import QUERY_MAX_LENGTH
from egov.procedures.models import LifeEvent
from egov.registries import queries as registry_queries


def home(request):
    """The citizen's front door: search, life events, look-up, their own dossiers (or sign-in), feedback, figures."""
    figures = queries.home_figures()
    return render(request, "portal/home.html", {
        "figures": figures,
        "figures_text": {name: _grouped(number) for name, number in figures.items()},
        "life_events": LifeEvent.choices,
        "query_max_length": QUERY_MAX_LENGTH,
    })


def _grouped(number: int) -> str:
    """3321 -> "3.321" in Vietnamese, "3,321" in English (egov.kernel.formats groups Vietnamese numbers by three)."""
    return number_format(number, force_grouping=True)


# --- Who accessed my data (nhật ký truy cập dữ liệu cá nhân) ---------------------------------------------------------

ACCESS_LOG_PAGE = 50

# What happened, as the person reads it. Unknown event types are shown as they are stored.
EVENT_LABELS = {
    "person.read": gettext_lazy("Read your data"),
    "person.verified": gettext_lazy("Verified your identity"),
    "person.released": gettext_lazy("Received a copy of your data"),
    "registry.record_read": gettext_lazy("Read a record about you"),
    "registry.record_created": gettext_lazy("Created a record about you"),
    "registry.record_updated": gettext_lazy("Changed a record about you"),
    "registry.record_deleted": gettext_lazy("Deleted a record about you"),
    "person.registered": gettext_lazy("Entered you in the population registry"),
    "person.birth_registered": gettext_lazy("Registered your birth"),
    "person.death_registered": gettext_lazy("Registered a death"),
    "person.residence_changed": gettext_lazy("Changed your residence"),
    "person.corrected": gettext_lazy("Corrected your data"),
}
VIA_LABELS = {
    "web": gettext_lazy("egov web pages"),
    "api": gettext_lazy("egov API"),
    "govstack": gettext_lazy("Data sharing platform"),
}


@dataclass(frozen=True)
class AccessRow:
    id: int
    at: object
    who: str
    what: str
    why: str
    via: str


def _who(entry) -> str:
    if entry.reader_kind == "citizen":
        return _("You")
    agency = entry.reader_agency_name or entry.reader_agency_code
    if entry.reader_system:
        return _("Information system %(system)s of %(agency)s") % {"system": entry.reader_system, "agency": agency} \
            if agency else _("Information system %(system)s") % {"system": entry.reader_system}
    role = Role(entry.reader_role).label if entry.reader_role in Role.values else ""
    if agency and role:
        return f"{agency} ({role})"
    return agency or str(role) or _("egov (automatic processing)")


def _what(entry) -> str:
    label = str(EVENT_LABELS.get(entry.event_type, entry.event_type))
    if entry.event_type == "person.verified" and entry.match is not None:
        return _("%(what)s: the details matched") % {"what": label} if entry.match \
            else _("%(what)s: the details did not match") % {"what": label}
    if entry.event_type.startswith("registry.") and entry.registry:
        return _("%(what)s, registry %(registry)s") % {"what": label, "registry": entry.registry}
    return label


def _row(entry) -> AccessRow:
    # A purpose is kept as the reader declared it; egov's own (marked with gettext_noop where declared) are shown in
    # the reader's language, a system's free text as it was written.
    return AccessRow(id=entry.id, at=entry.at, who=_who(entry), what=_what(entry), why=_(entry.purpose) if entry.purpose else "",
                     via=str(VIA_LABELS.get(entry.via, entry.via)))


@never_cache
@assurance_required(2)
def data_access(request):
    """Ai đã truy cập dữ liệu của tôi: who read, verified, released or changed the signed-in person's data, when and
    why, newest first, a page at a time (``?before=<entry id>``). Only ever the signed-in account's own person, and
    only for an account at level 2 (identity verified): a level-1 account is told how to get there."""
    person = request.user.person
    context = {"person": person, "rows": [], "older": None, "paged": False, "bad_link": False}
    if person is None:
        return render(request, "portal/data_access.html", context)
    raw_before = request.GET.get("before", "")
    before = row_id(raw_before)
    context["bad_link"] = bool(raw_before) and before is None
    entries = registry_queries.access_log(person, before_id=before, limit=ACCESS_LOG_PAGE + 1)
    page = entries[:ACCESS_LOG_PAGE]
    context.update(rows=[_row(entry) for entry in page], paged=before is not None,
                   older=page[-1].id if len(entries) > ACCESS_LOG_PAGE else None)
    return render(request, "portal/data_access.html", context, status=400 if context["bad_link"] else 200)


@require_GET
def communes(request, province):
    """``GET /places/<province>/communes.json``: the current communes of a province, [[code, name], ...] in Vietnamese
    alphabetical order, for the commune picker. Public reference data, the same for everyone: cached by browsers for
    a day."""
    from egov.dossiers.forms import communes_of

    found = communes_of(province)
    if not found:
        return JsonResponse({"error": _("There is no current province with the code “%(code)s”.") % {"code": province}},
                            status=404)
    response = JsonResponse({"province": province, "communes": found})
    patch_cache_control(response, public=True, max_age=86400)
    return response


def bench_bare(request):
    """The benchmark's reference: the cheapest Django view (mounted only with EGOV_BENCH_BARE_VIEW=1)."""
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
def bench_submission_reference(request, step):
    """The submission benchmark's floor (bench/bench_submission.py; mounted only with EGOV_BENCH_BARE_VIEW=1): the
    least Django does to take the same two requests as an online submission. The upload's multipart body is parsed and
    the file's bytes read; the review's small form is parsed; each answers the redirect the real step answers. No
    session, no checks, no storage, no database."""
    if step == "upload":
        request.FILES["file_DON"].read()
        return HttpResponseRedirect("/bench/submission-reference/review/")
    request.POST.get("idempotency_key")
    return HttpResponseRedirect("/apply/done/")


BENCH_VERIFY_TABLE = "bench_verify_reference_log"


def ensure_bench_verify_table(connection) -> None:
    """The reference's own log table (benchmark only; created by bench/bench_population.py before the server starts)."""
    key = "serial PRIMARY KEY" if connection.vendor == "postgresql" else "integer PRIMARY KEY"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {BENCH_VERIFY_TABLE} (id {key}, person_id bigint, at double precision)")


@csrf_exempt
def bench_verify_reference(request):
    """The reference of the verification benchmark (bench/bench_population.py; mounted only with
    EGOV_BENCH_BARE_VIEW=1): the least a verification must do. Parse the JSON body, one SELECT of a person by an
    indexed column (the blind index of the number), one INSERT (a log row); no authentication, no decryption, no
    ledger."""
    import json
    import time

    from django.db import connection
    from django.http import JsonResponse

    from egov.kernel import crypto
    from egov.registries.models import PIN_FIELD, Person

    number = str(json.loads(request.body)["personal_id_number"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, status FROM {Person._meta.db_table} WHERE pin_index = %s",
                       [crypto.blind_index(PIN_FIELD, number)])
        row = cursor.fetchone()
        cursor.execute(f"INSERT INTO {BENCH_VERIFY_TABLE} (person_id, at) VALUES (%s, %s)",
                       [row[0] if row else None, time.time()])
    return JsonResponse({"match": row is not None, "deceased": None})


def _api_problem(request, status: int, title: str):
    # API clients get problem+json even for URLs that no API route matches.
    if request.path.startswith("/api/"):
        from egov.api import problem

        return problem(status, title)
    return None


@requires_csrf_token
def bad_request(request, exception=None):
    return _api_problem(request, 400, "Bad request") or render(request, "400.html", status=400)


@requires_csrf_token
def permission_denied(request, exception=None):
    return _api_problem(request, 403, "Forbidden") or render(request, "403.html", status=403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _api_problem(request, 404, "Not found") or render(request, "404.html", status=404)


@requires_csrf_token
def server_error(request):
    problem = _api_problem(request, 500, "Internal server error")
    if problem:
        return problem
    # No request context: the failure may have come from a context processor or the database.
    try:
        html = loader.get_template("500.html").render({"request": request})
    except Exception:  # noqa: BLE001 - the layout itself failed; answer with the plainest page rather than nothing
        html = f'<!doctype html><html lang="{get_language()}"><title>500</title><h1>{_("Server error")}</h1></html>'
    return HttpResponse(html, status=500)
