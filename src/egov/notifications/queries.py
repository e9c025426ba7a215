from django.db import connections, router

from egov.notifications.models import Message, Notification

OUTBOX_PAGE = 50


def newest_messages(*, before_id: int | None = None, limit: int = OUTBOX_PAGE) -> list[Message]:
    messages = Message.objects.order_by("-id")
    if before_id:
        messages = messages.filter(id__lt=before_id)
    return list(messages[:limit])


NOTIFICATIONS_PAGE = 30


def unread_count(user) -> int:
    """The account's unread notices, counted on every page a citizen opens (the menu shows it): written by hand, the
    ORM's building of this count cost more than the database's work on it."""
    connection = connections[router.db_for_read(Notification)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(Notification._meta.db_table)} "
                       "WHERE user_id = %s AND read_at IS NULL", [user.pk])
        return cursor.fetchone()[0]


def notifications_of(user, *, before_id: int | None = None, limit: int = NOTIFICATIONS_PAGE) -> list[Notification]:
    """The account's own notices, newest first, a page at a time by key."""
    rows = Notification.objects.filter(user=user).order_by("-id")
    if before_id:
        rows = rows.filter(id__lt=before_id)
    return list(rows[:limit])


def failing_messages_count() -> int:
    """Queued messages that failed and wait for another try, or were given up: what an administrator should look at."""
    return Message.objects.filter(source__isnull=False,
                                  status__in=[Message.Status.FAILED, Message.Status.GAVE_UP]).count()
