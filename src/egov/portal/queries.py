"""Reads for the public portal pages."""
import time

from django.db import connection

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
