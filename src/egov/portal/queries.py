"""Reads for the public portal pages."""
import time

from django.db import connection

from egov.kernel.db import instance_from_row, model_columns
from egov.registries.models import AdministrativeUnit, Agency

# The home page's counts are reference data that changes a few times a year; each web process keeps them for this
# many seconds rather than counting on every view of the busiest page. Staleness is harmless here, and no decision
# is ever taken on these numbers.
FIGURES_MAX_AGE_SECONDS = 60
_figures: tuple[float, dict] | None = None


def count_home_figures() -> dict:
    """Current provinces and communes, active agencies: one round trip, three indexed counts."""
    units, agencies = AdministrativeUnit._meta.db_table, Agency._meta.db_table
    sql = (f"SELECT (SELECT COUNT(*) FROM {units} WHERE generation = %s AND level = %s), "
           f"(SELECT COUNT(*) FROM {units} WHERE generation = %s AND level = %s), "
           f"(SELECT COUNT(*) FROM {agencies} WHERE is_active = %s)")
    current = AdministrativeUnit.Generation.CURRENT.value
    with connection.cursor() as cursor:
        cursor.execute(sql, [current, AdministrativeUnit.Level.PROVINCE.value,
                             current, AdministrativeUnit.Level.COMMUNE.value, True])
        provinces, communes, active_agencies = cursor.fetchone()
    return {"provinces": provinces, "communes": communes, "agencies": active_agencies}


def home_figures() -> dict:
    global _figures
    now = time.monotonic()
    if _figures is None or now - _figures[0] > FIGURES_MAX_AGE_SECONDS:
        _figures = (now, count_home_figures())
    return _figures[1]


# --- The apply flow's draft ------------------------------------------------------------------------------------------

_DRAFT_SQL: dict[str, str] = {}


def own_draft(user, uid):
    """The user's own draft ``uid`` with its procedure version, procedure and agency (``Draft.DoesNotExist`` when
    there is none of theirs): one statement, read by hand. Every step of the apply flow starts here, and the ORM's
    compilation of this four-table select cost several times the database's work (measured with the submission
    benchmark, bench/bench_submission.py)."""
    from django.db import connections, router

    from egov.portal.apply_models import Draft
    from egov.procedures.models import Procedure, ProcedureVersion

    db = router.db_for_read(Draft)
    connection = connections[db]
    models = (Draft, ProcedureVersion, Procedure, Agency)
    if connection.vendor not in _DRAFT_SQL:
        q = connection.ops.quote_name
        parts = [model_columns(connection, model, alias) for model, alias in zip(models, "dvpa", strict=True)]
        tables = [q(model._meta.db_table) for model in models]
        sql = (f"SELECT {', '.join(c for columns, _ in parts for c in columns)} FROM {tables[0]} d "
               f"JOIN {tables[1]} v ON v.{q('id')} = d.{q('procedure_version_id')} "
               f"JOIN {tables[2]} p ON p.{q('id')} = v.{q('procedure_id')} "
               f"LEFT JOIN {tables[3]} a ON a.{q('id')} = d.{q('agency_id')} "
               f"WHERE d.{q('uid')} = %s AND d.{q('owner_id')} = %s")
        _DRAFT_SQL[connection.vendor] = (sql, [converters for _, converters in parts])
    sql, converters = _DRAFT_SQL[connection.vendor]
    uid_field = Draft._meta.get_field("uid")
    with connection.cursor() as cursor:
        cursor.execute(sql, [uid_field.get_db_prep_value(uid_field.to_python(uid), connection), user.pk])
        row = cursor.fetchone()
    if row is None:
        raise Draft.DoesNotExist
    values, instances = list(row), []
    for model, model_converters in zip(models, converters, strict=True):
        count = len(model_converters)
        chunk, values = values[:count], values[count:]
        instances.append(None if chunk[0] is None else instance_from_row(model, db, model_converters, chunk, connection))
    draft, version, procedure, agency = instances
    version.procedure = procedure
    draft.procedure_version = version
    draft.agency = agency
    draft.owner = user  # owner_id = user.pk: the statement's condition
    return draft
