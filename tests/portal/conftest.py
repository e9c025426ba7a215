import pytest

METRICS_MIDDLEWARE = "egov.kernel.metrics.MetricsMiddleware"


@pytest.fixture(autouse=True)
def fresh_portal_caches(monkeypatch):
    """Each test sees its own data: forget the home page's memoised figures and the cached template fragments."""
    from django.core.cache import cache

    from egov.portal import queries

    monkeypatch.setattr(queries, "_figures", None)
    cache.clear()


@pytest.fixture
def with_metrics(settings):
    """The metrics middleware outermost, as settings.MIDDLEWARE should have it."""
    if METRICS_MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [METRICS_MIDDLEWARE, *settings.MIDDLEWARE]
