"""Sessions in the database (Django's ``db`` store), read with one statement prepared once: every signed-in request
reads its session, and the ORM's building of that select cost as much as the database's work on it."""
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from egov.kernel.db import read_one


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        now = connections[router.db_for_read(Session)].ops.adapt_datetimefield_value(timezone.now())  # as the ORM
        session = read_one(Session, "t.session_key = %s AND t.expire_date > %s", [self.session_key, now])
        if session is None:
            self._session_key = None
        return session
