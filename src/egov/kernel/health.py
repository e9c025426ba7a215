"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz`` answers from the process alone (no database), so a slow database never gets web processes killed;
``/readyz`` checks what a request needs: the database answers and every migration is applied.
"""
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# Once every migration is seen applied, this process need not load the migration graph again: migrations are only
# ever added by a deploy, and a deploy starts new processes.
_migrations_seen_applied = False


def unapplied_migrations() -> list[str]:
    """Names (``app.migration``) of migrations on disk that the database has not applied."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    global _migrations_seen_applied
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        if not _migrations_seen_applied:
            pending = unapplied_migrations()
            if pending:
                return JsonResponse(
                    {"status": "unavailable", "reason": "migrations not applied", "unapplied": pending[:20],
                     "unapplied_count": len(pending)},
                    status=503,
                )
            _migrations_seen_applied = True
    except DatabaseError as exc:
        # The message names the failure (refused connection, missing database) without credentials: Django's
        # database errors carry the driver's message, which never includes the password.
        return JsonResponse(
            {"status": "unavailable", "reason": "database unavailable", "error": str(exc).strip()[:300]}, status=503
        )
    return JsonResponse({"status": "ok", "database": connection.vendor})
