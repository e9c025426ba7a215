"""Background task form of ``egov statistics update`` for deployments that run ``egov worker`` rather than the
``egov notify`` loop (enqueue it from a scheduler)."""
from django.tasks import task

from egov.monitoring import services


@task
def statistics_pass() -> dict:
    """One pass of the statistics consumer. Idempotent, so overlapping runs are safe."""
    return {"events": services.update()}
