"""Rows kept per connection on PostgreSQL (egov.kernel.row_cache): a client system or a registry is read from the
database once, and a change made anywhere (another connection, a raw SQL statement, the ORM) is seen by the first
look-up after its notification arrives; inside a transaction, and on SQLite, every look-up reads the database."""
import threading
import time

import pytest
from django.db import connection, connections, transaction

from egov.exchange import queries as exchange_queries
from egov.exchange.models import ClientSystem, ServiceGrant
from egov.exchange.services import key_digest, register_client
from egov.kernel import row_cache
from egov.kernel.access import SYSTEM
from egov.registries import queries as registry_queries
from egov.registries.models import Agency, Registry
from egov.registries.services import ensure_population_registry

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="notifications of changed rows are PostgreSQL's (LISTEN/NOTIFY)")


def statements_of(call):
    """(result, SQL statements run) of ``call()`` on the default connection."""
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = call()
    return result, seen


def elsewhere(change):
    """Run ``change`` on another database connection (another thread), committed when it returns."""
    errors = []

    def run():
        try:
            change()
        except Exception as exc:  # noqa: BLE001 - raised again below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if errors:
        raise errors[0]


@pytest.fixture
def client_key(transactional_db):
    agency = Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP Hồ Chí Minh")
    _, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch", agency=agency,
                             grants={"registry.population.read": []})
    return key_digest(key)


def eventually(check, seconds: float = 10.0) -> bool:
    """Whether ``check()`` becomes true within ``seconds``. PostgreSQL's listening process sends a notification
    when it next runs after the commit (within a millisecond on a quiet server, later on a busy one); a cache that
    was never told stays wrong for ever and fails here."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def look_up(digest):
    return exchange_queries.active_client(key_digest=digest)


@on_postgresql
@pytest.mark.postgres
def test_a_client_system_is_read_once_and_then_kept(client_key):
    first, statements = statements_of(lambda: look_up(client_key))
    assert first is not None and any("exchange_clientsystem" in sql for sql in statements)
    again, statements = statements_of(lambda: look_up(client_key))
    assert again is first
    assert not any("exchange_clientsystem" in sql for sql in statements)


@on_postgresql
@pytest.mark.postgres
def test_a_client_system_disabled_on_another_connection_is_refused_once_notified(client_key):
    assert look_up(client_key) is not None
    elsewhere(lambda: ClientSystem.objects.update(is_active=False))
    assert eventually(lambda: look_up(client_key) is None)


@on_postgresql
@pytest.mark.postgres
def test_a_grant_withdrawn_by_raw_sql_elsewhere_is_gone_once_notified(client_key):
    assert [service for service, _ in look_up(client_key)[2]] == ["registry.population.read"]

    def withdraw():
        with connections["default"].cursor() as cursor:
            cursor.execute(f"DELETE FROM {ServiceGrant._meta.db_table}")

    elsewhere(withdraw)
    assert eventually(lambda: look_up(client_key)[2] == [])


@on_postgresql
@pytest.mark.postgres
def test_a_registry_deactivated_elsewhere_is_not_found_once_notified(transactional_db):
    ensure_population_registry(Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP Hồ Chí Minh"))
    kept = registry_queries.active_registry("population", "1.0")
    assert registry_queries.active_registry("population", "1.0") is kept
    elsewhere(lambda: Registry.objects.filter(code="population").update(is_active=False))
    assert eventually(lambda: registry_queries.active_registry("population", "1.0") is None)


@on_postgresql
@pytest.mark.postgres
def test_inside_a_transaction_a_look_up_sees_the_transactions_own_change(client_key):
    assert look_up(client_key) is not None
    with transaction.atomic():
        ClientSystem.objects.update(is_active=False)
        assert look_up(client_key) is None
        transaction.set_rollback(True)
    assert look_up(client_key) is not None  # rolled back: still active, and nothing stale was kept


@on_postgresql
@pytest.mark.postgres
def test_a_new_physical_connection_starts_empty(client_key):
    kept = look_up(client_key)
    connection.close()
    _, statements = statements_of(lambda: look_up(client_key))
    assert any("exchange_clientsystem" in sql for sql in statements)
    assert look_up(client_key) is not kept


@on_postgresql
@pytest.mark.postgres
def test_a_change_committed_while_a_value_is_read_is_not_kept(transactional_db):
    """The notification of a change may come in with the answer of the very read that missed it."""
    rows = row_cache._rows_of(connection)
    loads = []

    def load():
        loads.append(1)
        rows.changed(type("Notify", (), {"channel": row_cache.CHANNEL})())  # as psycopg hands it over mid-read
        return "old row"

    assert row_cache.cached("default", ("test", 1), load) == "old row"
    assert row_cache.cached("default", ("test", 1), load) == "old row"
    assert len(loads) == 2


def test_on_sqlite_or_in_a_transaction_every_look_up_reads(db):
    """The ``db`` fixture runs each test in a transaction: nothing is kept, whatever the database."""
    loads = []

    def load():
        loads.append(1)
        return {"row": 1}

    row_cache.cached("default", ("test", 2), load)
    row_cache.cached("default", ("test", 2), load)
    assert len(loads) == 2


@on_postgresql
@pytest.mark.postgres
def test_turned_off_behind_a_pooler_every_look_up_reads(client_key, monkeypatch):
    """EGOV_DATABASE_NOTIFY=0 (a pooler in transaction mode keeps no LISTEN)."""
    monkeypatch.setitem(connection.settings_dict, "ROW_CACHE", False)
    look_up(client_key)
    _, statements = statements_of(lambda: look_up(client_key))
    assert any("exchange_clientsystem" in sql for sql in statements)


def test_the_setting_follows_the_environment(monkeypatch, tmp_path):
    from egov import config

    monkeypatch.setenv("EGOV_DATABASE_URL", "postgres://egov@127.0.0.1:5432/egov")
    monkeypatch.setenv("EGOV_DATABASE_NOTIFY", "0")
    assert config.database(tmp_path)["ROW_CACHE"] is False
    monkeypatch.delenv("EGOV_DATABASE_NOTIFY")
    assert config.database(tmp_path)["ROW_CACHE"] is True
    assert config.database(tmp_path)["ENGINE"] == "egov.kernel.postgresql"
