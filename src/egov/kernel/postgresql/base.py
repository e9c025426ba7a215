"""Django's PostgreSQL backend with a health check that asks the socket before it asks the server.

With ``CONN_HEALTH_CHECKS`` (egov turns it on: connections live ``CONN_MAX_AGE`` seconds across requests), Django runs
``SELECT 1`` before the first statement of every request, a round trip that no query count shows (it bypasses
Django's cursor wrappers, and the test client skips it): on the GovStack read by ID, one round trip in three. A
connection that the server has closed
(a restart, ``pg_terminate_backend``, an idle timeout) always says so on its socket first: the server sends its
farewell (an error message) and closes, so the socket becomes readable. So the check here looks at the socket without
waiting (``poll`` with no timeout): quiet means nothing has happened to the connection since its last answer, and it
is used as is; readable (a farewell, or a notification for ``egov.kernel.row_cache``) falls back to Django's
``SELECT 1``, which closes the connection when it fails. A server that vanished without a word (its machine lost) is
noticed by neither check before the first statement times out.
"""
import select

from django.db.backends.postgresql import base
from psycopg import Error


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (self.pool is None and self.connection is not None and self.health_check_enabled
                and not self.health_check_done and self._socket_is_quiet()):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _socket_is_quiet(self) -> bool:
        try:
            poller = select.poll()
            poller.register(self.connection.pgconn.socket, select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (Error, OSError, ValueError):  # no socket to look at (closed, broken): let Django's check decide
            return False
