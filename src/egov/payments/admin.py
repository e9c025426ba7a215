"""Payments in the admin, read-only: requests, notifications as received (forged and flagged ones too), refunds and
the daily reconciliation reports."""
from django.contrib import admin

from egov.payments.models import PaymentNotification, PaymentRequest, ReconciliationReport, Refund


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentRequest)
class PaymentRequestAdmin(ReadOnly):
    list_display = ("reference", "dossier_code", "amount", "status", "method", "created_at", "paid_at")
    list_filter = ("status", "method")
    search_fields = ("reference", "dossier_code")


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnly):
    list_display = ("provider", "transaction_id", "kind", "amount", "signature_ok", "outcome", "received_at",
                    "applied_at")
    list_filter = ("provider", "outcome", "signature_ok")
    search_fields = ("transaction_id",)


@admin.register(Refund)
class RefundAdmin(ReadOnly):
    list_display = ("reference", "request", "provider", "transaction_id", "amount", "status", "attempts", "created_at",
                    "completed_at")
    list_filter = ("status",)


@admin.register(ReconciliationReport)
class ReconciliationReportAdmin(ReadOnly):
    list_display = ("day", "provider_count", "platform_count", "recovered", "created_at")
