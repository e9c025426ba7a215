"""Fails when a routed HTML page was not visited by any browser test (so it never had its axe check).

Runs last in tests/e2e (file order). Owners of a new page add a journey that calls ``visit(page, url)``; a page that
is not HTML or cannot be visited as is goes in one of the two small lists below, with the reason.
"""
import os

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.e2e.conftest import VISITED_ROUTES

# Whole URL namespaces or path prefixes that are not the web shell's HTML pages.
EXCLUDED_NAMESPACES = {
    "admin",  # Django's own admin pages, not ours to make accessible
    "api",    # JSON endpoints; the one HTML page, api:openapi-view, is in INCLUDED_IN_EXCLUDED below
}
INCLUDED_IN_EXCLUDED = {"api:openapi-view"}
EXCLUDED_ROUTES = {
    "set_language",  # POST only (the language switch form)
    "healthz", "readyz", "metrics",  # JSON / Prometheus text, visited by test_health_and_readiness_answer_json
    "bench-bare", "bench-verify-reference", "bench-payments-hmac",  # benchmark-only views (EGOV_BENCH_BARE_VIEW=1)
    "eid:start", "eid:callback",  # redirects only (to the national eID and back); test_eid_journeys.py passes both
    # OpenID Connect / OAuth 2.0 endpoints answering JSON (or POST only); their HTML pages, authorize (the consent
    # screen) and logout, are visited by test_oidc_journeys.py
    "oauth2_provider:token", "oauth2_provider:revoke-token", "oauth2_provider:introspect",
    "oauth2_provider:oidc-connect-discovery-info", "oauth2_provider:jwks-info", "oauth2_provider:user-info",
    "oidc-discovery-root",
    # POST only (a button on /my/notifications/, which test_notifications_journeys.py visits)
    "portal:notifications_read_all", "portal:notifications_language",
    "monitoring:statistics_csv",  # a CSV download; test_statistics_journeys.py fetches it from /statistics/
    "results:ca_certificate", "results:ca_crl",  # DER downloads (the demo CA); tests/results/test_http.py fetches them
}
EXCLUDED_PREFIXES = ("static/", "media/")
# Patterns with parameters are skipped unless listed here with the URL a journey visits (route name -> example).
PARAMETERISED: dict[str, str] = {
    "accounts:agency_officers": "/accounts/agency/<code>/officers/ (test_accounts_journeys.py)",
    "registries:detail": "/registries/<code>/<version>/ (test_registries_journeys.py)",
    "accounts:verify_identity_code": "/accounts/verify/<uuid>/ (test_identity_journeys.py)",
    "accounts:change_contact_code": "/accounts/contact/<uuid>/ (test_identity_journeys.py)",
    "business:detail": "/business/<code>/ (test_business_journeys.py)",
    "backoffice:detail": "/backoffice/dossiers/<code>/ (test_backoffice_journeys.py)",
    "dossiers:detail": "/dossiers/<code>/ (test_backoffice_journeys.py)",
    "payments:pay": "/payments/<code>/ (test_payments_journeys.py)",
}


def routed_pages():
    """(view name or route, route string) for every URL pattern a browser could GET as an HTML page."""
    found = []

    def walk(patterns, prefix: str, namespace: str | None):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = entry.namespace
                full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                walk(entry.url_patterns, route, full_ns)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or route)
                found.append((name, route, namespace, entry))

    walk(get_resolver().url_patterns, "", None)
    pages = []
    for name, route, namespace, entry in found:
        top_namespace = (namespace or "").split(":")[0]
        if name in INCLUDED_IN_EXCLUDED:
            pages.append((name, route))
            continue
        if top_namespace in EXCLUDED_NAMESPACES or name in EXCLUDED_ROUTES or route.startswith(EXCLUDED_PREFIXES):
            continue
        if entry.pattern.regex.groups and name not in PARAMETERISED:
            continue
        view_class = getattr(entry.callback, "view_class", None)
        if view_class is not None and "get" not in view_class.http_method_names:
            continue  # POST-only class-based view (e.g. logout)
        pages.append((name, route))
    return pages


UNVISITED_MESSAGE = ("these routed pages were not visited by any browser test (add a journey in tests/e2e that calls "
                     "visit(page, url), or list the route in test_zz_route_coverage.py with the reason):\n  ")


def unvisited(visited: set[str]) -> list[str]:
    return sorted(f"{name} (/{route})" for name, route in routed_pages() if name not in visited)


def test_every_routed_page_was_visited_by_a_browser_test(request):
    config = request.config
    if not getattr(config, "_egov_all_e2e_collected", False) or getattr(config, "_egov_e2e_deselected", False):
        pytest.skip("route coverage is checked only when every browser journey runs (run tests/e2e whole)")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.skip("under pytest-xdist the journeys run in several workers: the controller checks the routes they "
                    "visited together at the end of the session (tests/environment.py)")
    missing = unvisited(VISITED_ROUTES)
    assert not missing, UNVISITED_MESSAGE + "\n  ".join(missing)
