"""Public portal pages (cổng dịch vụ công) and the site-wide error pages. Views stay thin: read, then render."""
from django.http import HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from egov.portal import queries


def home(request):
    return render(request, "portal/home.html", {"figures": queries.home_figures()})


def bench_bare(request):
    """The benchmark's reference: the cheapest Django view (mounted only with EGOV_BENCH_BARE_VIEW=1)."""
    return HttpResponse(b"ok", content_type="text/plain")


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
