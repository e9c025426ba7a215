"""Payments (thanh toán phí, lệ phí): what a dossier owes, what the providers told us, refunds, reconciliation.

Only ``services.py`` changes these rows. Amounts are VND as integers. A notification is kept exactly as it arrived
(raw body), whether it was applied, flagged or forged: it is the evidence a reconciliation or a dispute goes back to.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentRequest(models.Model):
    """Yêu cầu thanh toán: the fees a dossier owes from the moment it enters status 6 (DOMAIN.md "Payment request
    fields": unit code and name, dossier code, fee lines with type, code, name, amount)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        PAID = "paid", _("Paid")
        REFUNDED = "refunded", _("Refunded")
        CANCELLED = "cancelled", _("Cancelled")

    class Method(models.TextChoices):
        VIETQR = "vietqr", _("VietQR bank transfer")
        GATEWAY = "gateway", _("Payment gateway")

    reference = models.CharField(_("payment reference"), max_length=32, unique=True)
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="payment_requests")
    dossier_code = models.CharField(_("dossier code"), max_length=40)
    unit_code = models.CharField(_("unit code"), max_length=13)
    unit_name = models.CharField(_("unit name"), max_length=255)
    lines = models.JSONField(_("fee lines"), default=list)
    amount = models.BigIntegerField(_("amount (VND)"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, blank=True)
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("requested at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_transaction = models.CharField(_("paying transaction"), max_length=64, blank=True)
    closed_note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("payment request")
        verbose_name_plural = _("payment requests")
        indexes = [models.Index(fields=["dossier_code", "status"], name="payments_request_code"),
                   models.Index(fields=["paid_at"], name="payments_request_paid_at")]
        constraints = [
            # One open request per dossier: a second "request fees" waits for the first to be settled.
            models.UniqueConstraint(fields=["dossier"], condition=models.Q(status="pending"),
                                    name="payments_one_pending_per_dossier"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="payments_request_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.reference


class PaymentNotification(models.Model):
    """One callback from a provider, as received. ``transaction_id`` is unique per provider (a repeated callback is
    recognised and changes nothing); a forged one is kept without it (so a forger cannot take a real id first)."""

    class Outcome(models.TextChoices):
        CREDITED = "credited", _("Credited")
        NOTED = "noted", _("Noted, nothing to change")
        STALE = "stale", _("Late or reordered, nothing changed")
        MISMATCH = "mismatch", _("Wrong amount: flagged for refund")
        UNMATCHED = "unmatched", _("No payment request matches: flagged (a payment is refunded)")
        DOUBLE_PAYMENT = "double_payment", _("Paid twice: flagged for refund")
        REFUND_CONFIRMED = "refund_confirmed", _("Refund confirmed")
        UNEXPECTED_REFUND = "unexpected_refund", _("Refund not asked for: flagged")
        FORGED = "forged", _("Forged: refused")

    provider = models.CharField(_("provider"), max_length=16)
    transaction_id = models.CharField(_("provider transaction id"), max_length=64, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=16, blank=True)  # paid, failed, pending, refunded
    amount = models.BigIntegerField(_("amount (VND)"), null=True, blank=True)
    request = models.ForeignKey(PaymentRequest, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="notifications")
    raw_body = models.TextField(_("raw body"))
    signature_ok = models.BooleanField(_("signature valid"))
    received_at = models.DateTimeField(_("received at"))
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        constraints = [models.UniqueConstraint(fields=["provider", "transaction_id"],
                                               name="payments_notification_unique_transaction")]
        indexes = [
            # The worker's queue: verified notifications not applied yet (small, whatever the table's size).
            models.Index(fields=["id"], name="payments_notification_todo",
                         condition=models.Q(applied_at__isnull=True, signature_ok=True)),
            models.Index(fields=["received_at"], name="payments_notification_time"),
        ]


class Refund(models.Model):
    """Hoàn phí: money sent back through the provider that took it, one received transaction per refund: the fees
    of a dossier whose processing stopped (the request's payment), money the request could no longer take (a
    second payment, or one after the request was cancelled or refunded: a double payment), a payment of the wrong
    amount (the request stays open), or a credit that matches no request at all (``request`` is then empty). A request
    may so have several refunds; a transaction never more than one."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SENT = "sent", _("Sent to the provider")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed, will be retried")

    reference = models.CharField(max_length=32, unique=True)
    request = models.ForeignKey(PaymentRequest, on_delete=models.PROTECT, related_name="refunds", null=True,
                                blank=True)
    # The received transaction that goes back (what the provider is asked to refund), as its notification names it.
    provider = models.CharField(max_length=16, blank=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    provider_reference = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        # One refund per received transaction: a failed attempt is retried on the same row, and a late callback
        # repeated or reordered finds the row there, so money never goes back twice.
        constraints = [models.UniqueConstraint(fields=["provider", "transaction_id"],
                                               condition=~models.Q(transaction_id=""),
                                               name="payments_one_refund_per_transaction")]


class ReconciliationReport(models.Model):
    """Đối soát: one day's comparison of the provider's transactions with the platform's records; every mismatch is
    listed (kind, references, both amounts)."""

    class Mismatch(models.TextChoices):
        """The kinds of mismatch a report lists: the code is stored (and printed by ``egov payments reconcile``), the
        label is what the page shows. The last four are the notifications' flagged outcomes (``rules.FLAGGED``)."""
        MISSING_ON_PLATFORM = "missing_on_platform", _("Missing on the platform (recovered from the provider)")
        MISSING_AT_PROVIDER = "missing_at_provider", _("Missing at the payment provider")
        AMOUNT_DIFFERS = "amount_differs", _("Amount differs from the provider's")
        KIND_DIFFERS = "kind_differs", _("Transaction status differs from the provider's")
        DOUBLE_CREDIT = "double_credit", _("Credited more than once")
        MISMATCH = "mismatch", _("Amount does not match the payment request: refunded")
        UNMATCHED = "unmatched", _("No payment request matches: a payment is refunded")
        DOUBLE_PAYMENT = "double_payment", _("Paid when nothing was due: refunded")
        UNEXPECTED_REFUND = "unexpected_refund", _("Refund the platform did not ask for")
    day = models.DateField(_("day"), unique=True)
    created_at = models.DateTimeField(_("made at"))
    provider_count = models.PositiveIntegerField(_("provider transactions"))
    platform_count = models.PositiveIntegerField(_("platform records"))
    recovered = models.PositiveIntegerField(_("recovered from the provider"), default=0)
    mismatches = models.JSONField(_("mismatches"), default=list)

    class Meta:
        verbose_name = _("reconciliation report")
        verbose_name_plural = _("reconciliation reports")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {len(self.mismatches)}"

    def mismatch_rows(self) -> list[dict]:
        """The mismatches with a translated ``label`` each; a kind this code does not know (a report stored by
        another version) shows its code rather than failing the page."""
        known = dict(self.Mismatch.choices)
        rows = []
        for row in self.mismatches if isinstance(self.mismatches, list) else []:
            if isinstance(row, dict):
                kind = str(row.get("kind") or "")
                rows.append({**row, "kind": kind, "label": str(known.get(kind, kind))})
        return rows
