"""Background task form of ``egov payments work --once``, for deployments that run ``egov worker`` rather than the
payments loop (enqueue it from a scheduler). Idempotent: the database says what is done (a notification's
``applied_at``, a refund's status), so overlapping or repeated runs do nothing twice."""
from django.tasks import task

from egov.payments import services


@task
def payments_pass() -> dict:
    """One pass: apply the providers' notifications not applied yet, send the refunds that are due."""
    applied, refunds = services.work_once()
    return {"applied": applied, "refunds_sent": refunds}
