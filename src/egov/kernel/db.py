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


_SELECT_SQL: dict[tuple, tuple[str, list]] = {}


def _select(model, where: str, order_by: str = "", limit: int | None = None):
    """(database alias, connection, SQL, converters) of a select of ``model``'s columns, built once per database,
    model, condition, order and limit."""
    db = router.db_for_read(model)
    conn = connections[db]
    key = (db, model, where, order_by, limit)
    prepared = _SELECT_SQL.get(key)
    if prepared is None:
        columns, converters = model_columns(conn, model, "t")
        sql = f"SELECT {', '.join(columns)} FROM {conn.ops.quote_name(model._meta.db_table)} t WHERE {where}"
        sql += f" ORDER BY {order_by}" if order_by else ""
        sql += f" LIMIT {int(limit)}" if limit is not None else ""
        prepared = _SELECT_SQL[key] = (sql, converters)
    return db, conn, *prepared


def read_one(model, where: str, params) -> object | None:
    """The one row of ``model`` matching ``where`` (SQL over the table aliased ``t``, e.g. ``"t.id = %s"``), as a model
    instance, or None. The statement is built once per database, model and condition."""
    db, conn, sql, converters = _select(model, where)
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else instance_from_row(model, db, converters, row, conn)


def read_all(model, where: str, params, *, order_by: str = "", limit: int | None = None) -> list:
    """The rows of ``model`` matching ``where`` (as for ``read_one``), in ``order_by`` (SQL over ``t``), at most
    ``limit`` of them, as model instances."""
    db, conn, sql, converters = _select(model, where, order_by, limit)
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [instance_from_row(model, db, converters, row, conn) for row in rows]


# --- Rows written by hand -------------------------------------------------------------------------------------------
# The same reasoning for the few inserts and updates of the busiest write path (an online submission: ADR 0010):
# Django's save() compiles its statement anew each time, about 0.15 ms of CPU for a small row, several times the
# database's own work. These build the statement once per database and model and take the values exactly as save()
# would (each field's pre_save, then its preparation for the database), so defaults, auto_now fields and files that
# are already stored behave as with save(). No signals are sent: use them only for models nobody listens to.

_INSERT_SQL: dict[tuple, tuple[str, list, bool]] = {}


def insert(instance) -> None:
    """INSERT ``instance`` as ``instance.save()`` would for a new row with an automatic primary key, and set it."""
    model = type(instance)
    db = router.db_for_write(model)
    conn = connections[db]
    key = (db, model)
    prepared = _INSERT_SQL.get(key)
    if prepared is None:
        q = conn.ops.quote_name
        meta = model._meta
        fields = [f for f in meta.concrete_fields if f is not meta.pk]
        returning = conn.features.can_return_columns_from_insert
        sql = (f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
               f"VALUES ({', '.join(['%s'] * len(fields))})"
               + (f" RETURNING {q(meta.pk.column)}" if returning else ""))
        prepared = _INSERT_SQL[key] = (sql, fields, returning)
    sql, fields, returning = prepared
    instance._prepare_related_fields_for_save(operation_name="save")  # a parent saved since it was assigned
    values = [f.get_db_prep_save(f.pre_save(instance, True), conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(sql, values)
        instance.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    instance._state.adding = False
    instance._state.db = db


_UPDATE_SQL: dict[tuple, tuple[str, list]] = {}


def update(instance, field_names: tuple[str, ...]) -> None:
    """UPDATE ``field_names`` of a saved ``instance``, as ``instance.save(update_fields=…)`` would (auto_now fields
    among them are set to now)."""
    model = type(instance)
    db = router.db_for_write(model)
    conn = connections[db]
    key = (db, model, tuple(field_names))
    prepared = _UPDATE_SQL.get(key)
    if prepared is None:
        q = conn.ops.quote_name
        meta = model._meta
        fields = [meta.get_field(name) for name in field_names]
        sql = (f"UPDATE {q(meta.db_table)} SET {', '.join(f'{q(f.column)} = %s' for f in fields)} "
               f"WHERE {q(meta.pk.column)} = %s")
        prepared = _UPDATE_SQL[key] = (sql, fields)
    sql, fields = prepared
    values = [f.get_db_prep_save(f.pre_save(instance, False), conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk])


def delete(model, pks) -> None:
    """DELETE the rows of ``model`` with these primary keys: no cascade and no signals, for rows nothing points at."""
    pks = list(pks)
    if not pks:
        return
    conn = connections[router.db_for_write(model)]
    q = conn.ops.quote_name
    with conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM {q(model._meta.db_table)} WHERE {q(model._meta.pk.column)} IN "
                       f"({', '.join(['%s'] * len(pks))})", pks)
