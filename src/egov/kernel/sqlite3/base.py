"""Django's SQLite backend with a writer queue: the embedded default's answer to several server processes writing.

SQLite lets one writer in at a time. A second writer's BEGIN IMMEDIATE meets SQLite's busy handler, which polls with
sleeps of 1, 2, 5, 10, 15, 20, 25 … ms: a writer waits milliseconds for a lock that is held for a fraction of one,
and throughput under concurrency collapses (measured with bench/bench_population.py: verifications stopped scaling
beyond one client). Here every transaction first takes an exclusive ``flock`` on a file beside the database, shared
by every process and thread that opens it, and polls it in steps of 50 µs growing to 1 ms. A write statement in
autocommit mode (outside ``atomic``: an INSERT, UPDATE, DELETE or REPLACE) queues the same way for its own length.
The queue only orders writers: SQLite's own locking still guarantees correctness.

The queue gives up after the connection's ``timeout`` (seconds, as SQLite's own) with the same error as SQLite:
"database is locked".
"""
import fcntl
import os
import time
from functools import partial

from django.db import OperationalError
from django.db.backends.sqlite3 import base

FIRST_WAIT, LONGEST_WAIT = 0.00005, 0.001
WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# Django rewrites every statement's %s placeholders to SQLite's ? with a regular expression, on every execution: a
# tenth of a ledger append (measured with cProfile on bench/bench_ledger.py's loop). The same few hundred statement
# texts come back all the time, so their rewritten form is kept, up to a bound (IN lists of varying length make new
# texts; past the bound they are rewritten as before).
_QMARK_QUERIES: dict[str, str] = {}
_QMARK_QUERIES_MAX = 4096


class QueuedCursor(base.SQLiteCursorWrapper):
    """Takes the writer queue around a write statement run in autocommit mode (its own implicit transaction)."""

    def __init__(self, connection, wrapper):
        super().__init__(connection)
        self._egov_wrapper = wrapper

    def convert_query(self, query, *, param_names=None):
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        converted = _QMARK_QUERIES.get(query)
        if converted is None:
            converted = super().convert_query(query)
            if len(_QMARK_QUERIES) < _QMARK_QUERIES_MAX:
                _QMARK_QUERIES[query] = converted
        return converted

    def _queued(self, query: str) -> bool:
        wrapper = self._egov_wrapper
        return not wrapper._holds_writer_lock and query.lstrip()[:7].upper().startswith(WRITE_STATEMENTS)

    def execute(self, query, params=None):
        if not self._queued(query):
            return super().execute(query, params)
        self._egov_wrapper._acquire_writer_lock()
        try:
            return super().execute(query, params)
        finally:
            self._egov_wrapper._release_writer_lock()

    def executemany(self, query, param_list):
        if not self._queued(query):
            return super().executemany(query, param_list)
        self._egov_wrapper._acquire_writer_lock()
        try:
            return super().executemany(query, param_list)
        finally:
            self._egov_wrapper._release_writer_lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_fd: int | None = None
    _holds_writer_lock = False

    def _writer_lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return f"{name}.writer-lock"

    def _acquire_writer_lock(self) -> None:
        path = self._writer_lock_path()
        if path is None or self._holds_writer_lock:
            return
        if self._writer_fd is None:
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 20))
        deadline, wait = time.monotonic() + timeout, FIRST_WAIT
        while True:
            try:
                fcntl.flock(self._writer_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OperationalError("database is locked (waited for the writer queue)") from None
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)
            else:
                self._holds_writer_lock = True
                return

    def _release_writer_lock(self) -> None:
        if self._holds_writer_lock and self._writer_fd is not None:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
        self._holds_writer_lock = False

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=partial(QueuedCursor, wrapper=self))

    def _start_transaction_under_autocommit(self):
        self._acquire_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
