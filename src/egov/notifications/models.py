"""Messages sent to people (thông báo): one-time codes, receipts, results. The outbox of every message sent.

Recipient and text are personal data (a phone number, a code): both are sealed like the population registry's
fields (AES-256-GCM under ``EGOV_DATA_KEYS``), so a database dump shows neither."""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.kernel import crypto


class Message(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    uid = models.UUIDField(_("reference"), unique=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=64, help_text=_("e.g. account.assurance_code"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="messages_received", verbose_name=_("account"))
    sealed = models.TextField(_("recipient and text (encrypted)"), editable=False)
    key_id = models.CharField(_("key id"), max_length=32, editable=False)
    recipient_hint = models.CharField(_("recipient (masked)"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["-created_at", "-id"], name="notifications_message_newest")]

    def __str__(self) -> str:
        return f"{self.channel} {self.purpose} {self.recipient_hint}"

    @property
    def aad(self) -> bytes:
        return f"notifications.message:{self.uid}".encode()

    def seal(self, *, recipient: str, subject: str, text: str, key: "crypto.MasterKey | None" = None) -> None:
        key = key or crypto.keyring().active
        self.sealed = crypto.seal_json({"recipient": recipient, "subject": subject, "text": text}, self.aad, key=key)
        self.key_id = key.key_id

    def content(self) -> dict:
        """Recipient, subject and text in clear: for the delivery and the demo outbox only."""
        return crypto.open_json(self.sealed, self.aad)
