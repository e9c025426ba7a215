"""Values kept a short while in Django's cache (per web process with the default local-memory cache)."""
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")


def kept(key: str, seconds: int, compute: Callable[[], T]) -> T:
    """``compute()``, kept ``seconds`` under ``key`` (0 or less: computed every time). A ``None`` result is not kept:
    callers that must remember "nothing" keep a stand-in (0, an empty tuple)."""
    if seconds <= 0:
        return compute()
    value = cache.get(key)
    if value is None:
        value = compute()
        if value is not None:
            cache.set(key, value, seconds)
    return value
