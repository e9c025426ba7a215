"""Rows read on every API call and rarely changed (a client system with its grants, a registry's definition), kept
per database connection on PostgreSQL until the database says one of their tables changed.

How PostgreSQL says it: each watched table has a statement-level trigger that runs ``pg_notify('egov_rows',
<table>)`` after any INSERT, UPDATE, DELETE or TRUNCATE (``watch_tables`` in the owning component's migration), so
even a raw SQL update, the admin or another program invalidates. Every connection that serves from the cache has
run ``LISTEN egov_rows``. PostgreSQL delivers a notification to listeners when the changing transaction commits;
before each use of the cache, the connection takes in whatever the server has sent (libpq's ``consume_input``:
no round trip, never blocks) and any notification empties the cache. So a change is seen by the first look-up
after the notification reached the socket: PostgreSQL sends it when the listening connection's server process next
runs after the commit (within a millisecond on a quiet server, later on a busy one), and a request in between still
sees the old row, as it would had it started a moment earlier. A new physical connection (``CONN_MAX_AGE``, a
broken connection) starts with an empty cache and listens before its first cached read. ``EGOV_DATABASE_NOTIFY=0``
turns it off (behind a pooler in transaction mode, where LISTEN does not stay with the session).

Why a cache at all: the client system and registry look-ups were two of the four statements of a GovStack read by
ID, each a round trip plus psycopg's and PostgreSQL's work on it (measured with bench/prof_read.py and
bench/bench_population.py; ADR 0004). SQLite has no notifications and runs in process, where the read is cheap:
there every look-up goes to the database. So does every look-up inside a transaction: its own changes to a watched
table notify only when it commits, so the cache could not know them (nor that a rollback undid what it read).

Values are shared by every caller on the connection: callers read them, never change them.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections

CHANNEL = "egov_rows"
_CHANNEL_BYTES = CHANNEL.encode()
MAX_ENTRIES = 2048
_MISSING = object()


class _ConnectionRows:
    """The cache of one physical PostgreSQL connection (``raw``), emptied by any notification on ``CHANNEL``."""

    def __init__(self, raw):
        self.raw = raw
        self.entries: dict[Any, Any] = {}
        self.generation = 0  # moves on every notification: a value read across one is not kept

    def changed(self, notify) -> None:
        if notify.channel == CHANNEL:
            self._forget()

    def _forget(self) -> None:
        self.entries.clear()
        self.generation += 1

    def take_notifications(self) -> None:
        """Notifications already sent by the server (psycopg hands those that arrive with a query's answer to
        ``changed``; these arrived while the connection was idle)."""
        pgconn = self.raw.pgconn
        pgconn.consume_input()
        while (notify := pgconn.notifies()) is not None:
            if notify.relname == _CHANNEL_BYTES:
                self._forget()


def _rows_of(connection) -> _ConnectionRows | None:
    """The listening cache of ``connection``'s current physical connection, set up when needed; None when it must
    not serve: not PostgreSQL, or inside a transaction (whose own changes, and its rollback, no notification tells:
    they are delivered at commit, and only to other transactions' view of the rows anyway)."""
    if (connection.vendor != "postgresql" or not connection.settings_dict.get("ROW_CACHE")
            or connection.in_atomic_block or not connection.get_autocommit()):
        return None
    connection.ensure_connection()
    raw = connection.connection
    rows = getattr(connection, "_egov_rows", None)
    if rows is not None and rows.raw is raw:
        from psycopg import Error

        try:
            rows.take_notifications()
        except Error:  # a broken connection: forget the cache; the look-up itself then fails as Django reports it
            connection._egov_rows = None
            return None
        return rows
    with connection.cursor() as cursor:
        cursor.execute(f"LISTEN {CHANNEL}")
    rows = _ConnectionRows(raw)
    raw.add_notify_handler(rows.changed)
    connection._egov_rows = rows
    return rows


def cached(alias: str, key: tuple, load: Callable[[], Any]) -> Any:
    """``load()``'s value for ``key`` on database ``alias``, from this connection's cache while no watched table
    changed. A None value (nothing found) is not kept: a miss asks the database every time."""
    rows = _rows_of(connections[alias])
    if rows is None:
        return load()
    value = rows.entries.get(key, _MISSING)
    if value is _MISSING:
        # A change committed after this read's snapshot notifies after the read began: psycopg may hand that
        # notification over with the read's own answer, which would leave the old row kept with nothing to drop it.
        generation = rows.generation
        value = load()
        if value is not None and rows.generation == generation:
            if len(rows.entries) >= MAX_ENTRIES:
                rows.entries.clear()
            rows.entries[key] = value
    return value


# --- Migrations -----------------------------------------------------------------------------------------------------

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION egov_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
END $$"""


def watch_tables(*tables: str):
    """A migration operation: on PostgreSQL, notify ``CHANNEL`` after every change to each of ``tables`` (and stop
    when migrated backwards). Nothing on other databases."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(_FUNCTION)
        for table in tables:
            name = schema_editor.quote_name(f"{table}_egov_rows")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {schema_editor.quote_name(table)}")
            schema_editor.execute(
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
                f"{schema_editor.quote_name(table)} FOR EACH STATEMENT EXECUTE FUNCTION egov_rows_changed()")

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {schema_editor.quote_name(f'{table}_egov_rows')} ON "
                                  f"{schema_editor.quote_name(table)}")

    return migrations.RunPython(forwards, backwards, elidable=False)
