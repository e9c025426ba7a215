"""Shared test fixtures. Component fixtures live in tests/<component>/conftest.py."""
import pytest


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache (pages and fragments kept for a while, per process, are in it)."""
    from django.core.cache import cache

    cache.clear()
    yield
