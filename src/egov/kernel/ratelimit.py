"""Rate limits in the shared store (the database): fixed windows counted with one upsert per hit.

One statement per hit (``INSERT … ON CONFLICT DO UPDATE … RETURNING``) on SQLite and PostgreSQL alike: the count is
exact under concurrency because the database serialises the increments of one row, and it holds across every web
process and machine that share the database.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connections, router

from egov.kernel.ratelimit_models import RateCounter


@dataclass(frozen=True)
class Decision:
    allowed: bool
    hits: int
    limit: int
    retry_after: int  # seconds until the window ends (0 when allowed)


_SQL: dict[str, tuple[str, str]] = {}


def _statements(connection) -> tuple[str, str]:
    if connection.vendor not in _SQL:
        q = connection.ops.quote_name
        table = q(RateCounter._meta.db_table)
        upsert = (f"INSERT INTO {table} ({q('key')}, {q('window_start')}, {q('hits')}) VALUES (%s, %s, 1) "
                  f"ON CONFLICT ({q('key')}, {q('window_start')}) DO UPDATE SET {q('hits')} = {table}.{q('hits')} + 1 "
                  f"RETURNING {q('hits')}")
        prune = f"DELETE FROM {table} WHERE {q('key')} = %s AND {q('window_start')} < %s"
        _SQL[connection.vendor] = (upsert, prune)
    return _SQL[connection.vendor]


def hit(key: str, *, limit: int, window_seconds: int, now: float | None = None) -> Decision:
    """Count one hit of ``key``; allowed while the window's count is at most ``limit``."""
    if not key or len(key) > 100:
        raise ValueError("a rate-limit key must be 1 to 100 characters")
    if window_seconds <= 0:
        raise ValueError("window_seconds must be positive")
    now = time.time() if now is None else now
    window_start = int(now // window_seconds) * window_seconds
    connection = connections[router.db_for_write(RateCounter)]
    upsert, prune = _statements(connection)
    with connection.cursor() as cursor:
        cursor.execute(upsert, [key, window_start, ])
        hits = cursor.fetchone()[0]
        if hits == 1:  # first hit of a new window: drop this key's old windows (indexed, amortised)
            cursor.execute(prune, [key, window_start])
    allowed = hits <= limit
    retry_after = 0 if allowed else max(1, int(window_start + window_seconds - now + 0.999))
    return Decision(allowed=allowed, hits=hits, limit=limit, retry_after=retry_after)
