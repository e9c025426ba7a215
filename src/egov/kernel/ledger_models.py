"""Event ledger tables (sổ sự kiện): append-only events hash-chained per partition, chain heads, signed checkpoints,
consumer offsets. The behaviour lives in ``egov.kernel.ledger``; these are the rows.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["AppendOnlyError", "ChainHead", "Checkpoint", "ConsumerOffset", "Event"]


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a ledger event through the ORM."""


class EventQuerySet(models.QuerySet):
    """Events are append-only: bulk changes through the ORM are refused (raw SQL tampering is what verify detects)."""

    def update(self, **kwargs):
        raise AppendOnlyError("ledger events are append-only: update() is refused")

    def delete(self):
        raise AppendOnlyError("ledger events are append-only: delete() is refused")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("ledger events are append-only: bulk_update() is refused")

    def bulk_create(self, objs, *args, **kwargs):
        # Bulk inserts would bypass the chain head lock and the hash chain: only ledger.append() writes events.
        raise AppendOnlyError("ledger events are written only by egov.kernel.ledger.append()")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError("ledger events are append-only: update_or_create() is refused")

    _update = update  # QuerySet.update_or_create/save paths may call the private helper


class Event(models.Model):
    """One fact that happened: who (actor), what (event_type), when, to which object (subject), in which chain.

    ``hash`` is sha256 over the canonical JSON of every other field, ``prev_hash`` included, so each row seals its
    predecessor. ``occurred_at_text`` is the exact UTC timestamp string that was hashed: it round-trips through any
    database or JSON backup unchanged (a DateTimeField may lose microseconds on the way).
    """

    id = models.BigAutoField(primary_key=True)
    partition = models.CharField(_("partition"), max_length=64)
    seq = models.BigIntegerField(_("sequence in partition"))
    event_type = models.CharField(_("event type"), max_length=100)
    occurred_at = models.DateTimeField(_("occurred at"))
    occurred_at_text = models.CharField(_("occurred at (hashed UTC text)"), max_length=32)
    actor_kind = models.CharField(_("actor kind"), max_length=64)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    subject_type = models.CharField(_("subject type"), max_length=100, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger event")
        verbose_name_plural = _("ledger events")
        constraints = [models.UniqueConstraint(fields=["partition", "seq"], name="kernel_event_partition_seq")]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="kernel_event_subject"),
            models.Index(fields=["event_type", "occurred_at"], name="kernel_event_type_time"),
            models.Index(fields=["occurred_at"], name="kernel_event_time"),
        ]

    def __str__(self):
        return f"{self.partition}#{self.seq} {self.event_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("ledger events are append-only: an existing event cannot be saved again")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("ledger events are append-only: delete() is refused")


class ChainHead(models.Model):
    """The newest (seq, hash) of one partition's chain. Its row lock serialises appends to that partition only."""

    partition = models.CharField(_("partition"), max_length=64, primary_key=True)
    seq = models.BigIntegerField(_("sequence"), default=0)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("ledger chain head")
        verbose_name_plural = _("ledger chain heads")

    def __str__(self):
        return f"{self.partition}#{self.seq}"


class Checkpoint(models.Model):
    """A chain head signed with the checkpoint key (kept outside the database) at ``signed_at``."""

    id = models.BigAutoField(primary_key=True)
    partition = models.CharField(_("partition"), max_length=64)
    seq = models.BigIntegerField(_("sequence"))
    hash = models.CharField(_("hash"), max_length=64)
    signed_at = models.CharField(_("signed at (UTC text)"), max_length=32)
    key_id = models.CharField(_("key id"), max_length=64)
    signature = models.CharField(_("signature"), max_length=256)

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        indexes = [models.Index(fields=["partition", "seq"], name="kernel_checkpoint_part_seq")]

    def __str__(self):
        return f"{self.partition}#{self.seq} @ {self.signed_at}"


class ConsumerOffset(models.Model):
    """How far one consumer (outbox reader: notifications, KPIs, exports) has read one partition."""

    consumer = models.CharField(_("consumer"), max_length=100)
    partition = models.CharField(_("partition"), max_length=64)
    last_seq = models.BigIntegerField(_("last sequence handled"), default=0)

    class Meta:
        verbose_name = _("ledger consumer offset")
        verbose_name_plural = _("ledger consumer offsets")
        constraints = [models.UniqueConstraint(fields=["consumer", "partition"], name="kernel_offset_consumer_part")]

    def __str__(self):
        return f"{self.consumer} {self.partition}@{self.last_seq}"
