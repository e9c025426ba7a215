"""Messages sent to people (thông báo): one-time codes, receipts, results. The outbox of every message sent.

Recipient and text are personal data (a phone number, a code): both are sealed like the population registry's
fields (AES-256-GCM under ``EGOV_DATA_KEYS``), so a database dump shows neither.

* ``Message``: one email or SMS. One-time codes are sent at once (``services.send``); notices of dossiers, feedback
  and refunds are queued (``pending``) by the ledger consumer and delivered by the retry pass, with exponential
  back-off on failure.
* ``Notification``: the in-app notice (thông báo trên cổng) an account holder reads at ``/my/notifications/``.
* ``Preference``: the language a person's notices are written in (vi by default)."""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.kernel import crypto


class Message(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        # A client system's callback address (GovStack Messaging): told the outcome of its request, with retries.
        CALLBACK = "callback", _("Callback to a client system")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        GAVE_UP = "gave_up", _("Gave up")
        # Sent, then reported undeliverable by the provider (GovStack Messaging's delivery report).
        BOUNCED = "bounced", _("Bounced")

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
    error = models.CharField(_("last error"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Queued messages only (dossier notices): the retry pass sends those whose next attempt is due. A message sent at
    # once (a one-time code) has no next attempt: a code is not worth resending later, the person asks for a new one.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # What caused the message, e.g. "dossier.received:000.00.12.H29:42:email": one message per event and channel,
    # whatever how often the event is handled (the ledger delivers at least once).
    source = models.CharField(_("source"), max_length=160, null=True, blank=True, unique=True, editable=False)
    # The client system's request it belongs to (GovStack Messaging), whose status counts it.
    request = models.ForeignKey("MessageRequest", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="messages", verbose_name=_("request"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["-created_at", "-id"], name="notifications_message_newest"),
                   models.Index(fields=["next_attempt_at"], name="notifications_message_due",
                                condition=models.Q(next_attempt_at__isnull=False))]

    def __str__(self) -> str:
        return f"{self.channel} {self.purpose} {self.recipient_hint}"

    @property
    def aad(self) -> bytes:
        return f"notifications.message:{self.uid}".encode()

    def seal(self, *, recipient: str, subject: str, text: str, key: "crypto.MasterKey | None" = None,
             **extra) -> None:
        """``extra``: further delivery details, sealed too (an email's cc, bcc, reply_to, sender_name)."""
        key = key or crypto.keyring().active
        self.sealed = crypto.seal_json({"recipient": recipient, "subject": subject, "text": text, **extra}, self.aad,
                                       key=key)
        self.key_id = key.key_id

    def content(self) -> dict:
        """Recipient, subject and text in clear: for the delivery and the demo outbox only."""
        return crypto.open_json(self.sealed, self.aad)


class MessageRequest(models.Model):
    """Yêu cầu gửi tin: one call of a client system to the GovStack Messaging API (one email or a batch), tracked by
    its ``uid`` (the spec's ``requestUid``). Its messages are ``Message`` rows; recipients rejected at once (an
    invalid address in a batch) are only counted, with their position and reason (no address is kept for them)."""
    uid = models.UUIDField(_("request uid"), unique=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey("exchange.ClientSystem", on_delete=models.PROTECT, related_name="message_requests",
                               verbose_name=_("client system"))
    channel = models.CharField(_("channel"), max_length=8, choices=Message.Channel.choices,
                               default=Message.Channel.EMAIL)
    # Where the client wants to be told the outcome (the spec's callback URI); told once, when every message is
    # settled, through the delivery loop (a ``Message`` on the callback channel, retried with back-off).
    callback_uri = models.CharField(_("callback address"), max_length=2000, blank=True)
    not_sent = models.PositiveIntegerField(_("rejected recipients"), default=0)
    rejected = models.JSONField(_("rejected recipients (position and reason)"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("messaging request")
        verbose_name_plural = _("messaging requests")
        indexes = [models.Index(fields=["client", "-created_at"], name="notifications_request_client")]

    def __str__(self) -> str:
        return str(self.uid)


class Notification(models.Model):
    """Thông báo trên cổng: one notice in an account holder's list, about a dossier (its code, the procedure, the
    status, the appointment date, what the agency asks for) or about the account's feedback (its reference, what
    happened, the due date). Nothing more personal: the author's words and the agency's answer stay sealed on the
    feedback, and the notice links to them. So it is stored in clear."""
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                             verbose_name=_("account"))
    event_type = models.CharField(_("event"), max_length=100)
    dossier_code = models.CharField(_("dossier code"), max_length=40, blank=True)
    feedback_reference = models.CharField(_("feedback reference"), max_length=24, blank=True)
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("text"))
    source = models.CharField(_("source"), max_length=160, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["user", "source"], name="notifications_one_per_event")]
        indexes = [models.Index(fields=["user", "-id"], name="notifications_user_newest"),
                   models.Index(fields=["user"], name="notifications_user_unread",
                                condition=models.Q(read_at__isnull=True))]

    def __str__(self) -> str:
        return self.title


class Language(models.TextChoices):
    VI = "vi", _("Vietnamese")
    EN = "en", _("English")


class Preference(models.Model):
    """How a person wants to be told: the language of their notices (tiếng Việt unless they choose English)."""
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference", verbose_name=_("account"))
    language = models.CharField(_("language of notices"), max_length=8, choices=Language.choices,
                                default=Language.VI)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
