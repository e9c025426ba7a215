"""Small database helpers shared by components."""
import contextlib

from django.db import connection, connections, router, transaction


@contextlib.contextmanager
def write_group():
    """Group independent writes where that is cheaper, without promising atomicity.

    SQLite commits are serialised through one writer at a time: two writes in one transaction take one turn of the
    writer queue and one commit instead of two (egov.kernel.sqlite3). On PostgreSQL every statement of such a group
    is atomic on its own and commits on its own: measured with bench/bench_population.py, one transaction around a
    rate-limit count and a ledger event held both rows' locks across the commit's flush and serialised concurrent
    callers (0.46 instead of 0.53 of the reference), more than it saved in round trips.
    Use it only where each write stands on its own (e.g. a rate-limit count and a ledger event)."""
    if connection.vendor == "sqlite":
        with transaction.atomic():
            yield
    else:
        yield


# --- Rows read by hand ----------------------------------------------------------------------------------------------
# Building a query through the ORM costs about 0.3 ms of CPU even for a select by key, as much as SQLite's or
# PostgreSQL's own work on it; a few reads made on every request (the session, the signed-in user) or on every step of
# a hot path are written once per database and read into model instances as the ORM would.


def model_columns(connection, model, alias: str) -> tuple[list[str], list]:
    """The model's concrete columns as ``alias.column`` and, for each, the converters the ORM would apply to it (the
    backend's and the field's: JSON decoded, UUIDs, dates and decimals on SQLite…), so a row read by hand gives the
    same values as the ORM."""
    q = connection.ops.quote_name
    columns, converters = [], []
    for field in model._meta.concrete_fields:
        columns.append(f"{alias}.{q(field.column)}")
        col = field.get_col(model._meta.db_table)
        converters.append((col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    return columns, converters


def instance_from_row(model, db: str, converters, values, connection):
    """A model instance from the values of ``model_columns``' columns, converted as the ORM converts them."""
    converted = []
    for (col, functions), value in zip(converters, values, strict=True):
        for convert in functions:
            value = convert(value, col, connection)
        converted.append(value)
    return model.from_db(db, [f.attname for f in model._meta.concrete_fields], converted)


def column_converter(connection, model, field_name: str):
    """What the ORM does to a column's value read from this database (on SQLite: a datetime's text to an aware
    datetime), as one function of the value."""
    col = model._meta.get_field(field_name).get_col(model._meta.db_table)
    functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)

    def convert(value):
        for function in functions:
            value = function(value, col, connection)
        return value

    return convert


_ONE_ROW_SQL: dict[tuple, tuple[str, list]] = {}


def read_one(model, where: str, params) -> object | None:
    """The one row of ``model`` matching ``where`` (SQL over the table aliased ``t``, e.g. ``"t.id = %s"``), as a model
    instance, or None. The statement is built once per database, model and condition."""
    db = router.db_for_read(model)
    conn = connections[db]
    key = (db, model, where)
    prepared = _ONE_ROW_SQL.get(key)
    if prepared is None:
        columns, converters = model_columns(conn, model, "t")
        sql = f"SELECT {', '.join(columns)} FROM {conn.ops.quote_name(model._meta.db_table)} t WHERE {where}"
        prepared = _ONE_ROW_SQL[key] = (sql, converters)
    sql, converters = prepared
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else instance_from_row(model, db, converters, row, conn)
