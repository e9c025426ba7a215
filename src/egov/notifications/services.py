"""Sending messages: the only code that writes the outbox. Every message is stored (sealed) and logged."""
from __future__ import annotations

from django.db import transaction

from egov.kernel import ledger
from egov.notifications import backends
from egov.notifications.models import Message


def mask(recipient: str) -> str:
    """What a person may be shown of where a code went: ``09******34``, ``d***@example.org``."""
    recipient = recipient.strip()
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = recipient.replace(" ", "")
    return digits[:2] + "*" * max(0, len(digits) - 4) + digits[-2:] if len(digits) > 4 else "*" * len(digits)


def send(*, channel: str, to: str, subject: str, text: str, purpose: str, user=None) -> Message:
    """Deliver ``text`` to ``to`` by ``channel`` and keep it in the outbox. A failed delivery is recorded, then
    raised as ``backends.DeliveryFailed`` so that the caller can tell the person."""
    message = Message(channel=channel, purpose=purpose, user=user, recipient_hint=mask(to))
    message.seal(recipient=to, subject=subject, text=text)
    error = None
    try:
        if channel == Message.Channel.SMS:
            message.provider_reference = backends.sms_backend().send(to=to, text=text)
        else:
            message.provider_reference = backends.send_email(to=to, subject=subject, text=text)
        message.status = Message.Status.SENT
    except backends.DeliveryFailed as failure:
        error = failure
        message.status, message.error = Message.Status.FAILED, str(failure)[:255]
    with transaction.atomic():
        message.save()
        ledger.append("notification.sent" if error is None else "notification.failed", partition="platform",
                      subject=message, payload={"channel": channel, "purpose": purpose})
    if error is not None:
        raise error
    return message


def message_key_usage() -> dict[str, int]:
    from egov.kernel import crypto

    return crypto.count_by_key(Message)


def rotate_message_batch(old_key_ids: list[str], active, batch_size: int) -> int:
    """Re-seal a batch of messages still under an old key (``egov keys rotate``)."""
    from egov.kernel import crypto

    return crypto.reseal_batch(Message, old_key_ids, batch_size,
                               lambda message: message.seal(**message.content(), key=active), ["sealed", "key_id"])
