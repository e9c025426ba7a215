from egov.notifications.models import Message

OUTBOX_PAGE = 50


def newest_messages(*, before_id: int | None = None, limit: int = OUTBOX_PAGE) -> list[Message]:
    messages = Message.objects.order_by("-id")
    if before_id:
        messages = messages.filter(id__lt=before_id)
    return list(messages[:limit])
