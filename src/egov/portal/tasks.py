"""Background task form of the data store's ledger consumer for deployments that run ``egov worker`` rather than the
``egov notify`` loop (enqueue it from a scheduler)."""
from django.tasks import task

from egov.portal import apply_services


@task
def data_store_pass() -> dict:
    """One pass of the data store consumer: delivered results kept in their applicants' stores. Idempotent, so
    overlapping runs are safe."""
    return {"events": apply_services.keep_delivered()}
