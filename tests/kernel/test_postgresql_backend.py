"""The PostgreSQL backend's health check (egov.kernel.postgresql): a connection whose socket is quiet is reused without
a ``SELECT 1``; one the server has closed is replaced before the request's first statement, as Django's own check
would."""
import time

import pytest
from django.db import connection, connections

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's health check")


def new_request():
    """What Django does when a request starts (``close_old_connections``, which the test client leaves out)."""
    connection.close_if_unusable_or_obsolete()


def count_round_trips_of_the_health_check(monkeypatch) -> list:
    asked = []
    usable = connection.is_usable

    def counted():
        asked.append(1)
        return usable()

    monkeypatch.setattr(connection, "is_usable", counted)
    return asked


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_quiet_connection_is_reused_without_asking_the_server(monkeypatch):
    assert connection.health_check_enabled
    pid = backend_pid()
    asked = count_round_trips_of_the_health_check(monkeypatch)
    for _ in range(3):
        new_request()
        assert backend_pid() == pid
    assert asked == []


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced_before_the_next_statement(monkeypatch):
    pid = backend_pid()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    deadline = time.monotonic() + 10
    while connection._socket_is_quiet() and time.monotonic() < deadline:  # the server's farewell is on its way
        time.sleep(0.01)
    asked = count_round_trips_of_the_health_check(monkeypatch)
    new_request()
    assert backend_pid() != pid  # no error: the dead connection was found and replaced
    assert asked == [1]
