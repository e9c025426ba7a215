"""Prometheus metrics: request counts and latency per route name, method and status.

Add ``"egov.kernel.metrics.MetricsMiddleware"`` first in ``settings.MIDDLEWARE`` (outermost, so it times the whole
request) and scrape ``/metrics``.

Several server processes: gunicorn runs several worker processes and each keeps its own counters. Without
configuration, ``/metrics`` shows the counters of the one worker that answered the scrape (a per-process registry):
good enough for one worker, misleading with several. For exact totals set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory writable by every worker (wiped at each server start) before the server starts: prometheus_client then keeps
the values in memory-mapped files there and ``/metrics`` sums them across workers (its "multiprocess mode").

Labels are bounded: the route is the URL pattern's name (``portal:home``), never the raw path, so a scan of random
URLs cannot create unbounded series (those all count under ``<unmatched>``).
"""
import os
import time

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "egov_http_requests", "HTTP requests answered, by route name, method and status code.",
    ["route", "method", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "egov_http_request_duration_seconds", "Time to answer an HTTP request, by route name and method.",
    ["route", "method"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# Methods outside this set are counted as "other" so that label values stay bounded.
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return match.view_name or match.route or "<unnamed>"


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_name(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route, method).observe(elapsed)
        return response


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@never_cache
@require_GET
def metrics_view(request):
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
