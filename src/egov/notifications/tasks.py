"""Background task form of ``egov notify --once`` for deployments that run ``egov worker`` rather than a notify loop
(enqueue it from a scheduler)."""
from django.tasks import task

from egov.notifications import services


@task
def notify_pass() -> dict:
    """One pass: read new ledger events into notices, send what is due. Idempotent, so overlapping runs are safe."""
    events, report = services.run_once()
    return {"events": events, "sent": report.sent, "failed": report.failed, "gave_up": report.gave_up}
