"""Small database helpers shared by components."""
import contextlib

from django.db import connection, transaction


@contextlib.contextmanager
def write_group():
    """Group independent writes where that is cheaper, without promising atomicity.

    SQLite commits are serialised through one writer at a time: two writes in one transaction take one turn of the
    writer queue and one commit instead of two (egov.kernel.sqlite3). On PostgreSQL every statement of such a group
    is atomic on its own, and a transaction would add a BEGIN and a COMMIT round trip, so the writes run as they are.
    Use it only where each write stands on its own (e.g. a rate-limit count and a ledger event)."""
    if connection.vendor == "sqlite":
        with transaction.atomic():
            yield
    else:
        yield
