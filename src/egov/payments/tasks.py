"""Background work of payments, run by ``egov worker`` (django-tasks-db). Every task is idempotent: the database says
what is done (a notification's ``applied_at``, a refund's status), so a task run twice, or after a killed run, does
nothing twice."""
from django.tasks import task

from egov.payments import services


@task
def apply_notification(notification_id: int) -> str | None:
    """Apply one provider notification (credit the dossier, confirm a refund, or flag it)."""
    return services.apply_notification(notification_id)


@task
def apply_pending_notifications() -> int:
    """Apply every notification left unapplied (queued at each worker start: a killed worker's work)."""
    return services.apply_pending()


@task
def send_refund(refund_id: int) -> str:
    return services.send_refund(refund_id)
