"""Messages in the admin: what was sent, what failed and waits for another try, what was given up. Recipient and
text stay sealed (only the masked recipient shows); an administrator can make failed messages due again."""
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from egov.notifications import queries, services
from egov.notifications.models import Message, MessageRequest, Notification


class DeliveryFilter(admin.SimpleListFilter):
    title = _("delivery")
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("failing", _("Failed / retrying")), ("gave_up", _("Gave up")), ("pending", _("Waiting to be sent")),
                ("sent", _("Sent"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "failing":
            return queryset.filter(status=Message.Status.FAILED)
        if value == "gave_up":
            return queryset.filter(status=Message.Status.GAVE_UP)
        if value == "pending":
            return queryset.filter(status=Message.Status.PENDING)
        if value == "sent":
            return queryset.filter(status=Message.Status.SENT)
        return queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "purpose", "recipient_hint", "status", "attempts", "next_attempt_at",
                    "error")
    list_filter = (DeliveryFilter, "channel")
    search_fields = ("purpose", "recipient_hint")
    readonly_fields = ("uid", "channel", "purpose", "user", "recipient_hint", "status", "attempts", "next_attempt_at",
                       "sent_at", "provider_reference", "error", "created_at", "request")
    fields = readonly_fields
    ordering = ("-id",)
    actions = ("retry_now",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        failing = queries.failing_messages_count()
        if failing and "delivery" not in request.GET:
            self.message_user(request, ngettext(
                "%(count)d queued message failed or was given up: filter by “Failed / retrying” or “Gave up”.",
                "%(count)d queued messages failed or were given up: filter by “Failed / retrying” or “Gave up”.",
                failing) % {"count": failing}, messages.WARNING)
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Try the selected failed messages again now"), permissions=["view"])
    def retry_now(self, request, queryset):
        count = services.retry_now(queryset.filter(Q(status=Message.Status.FAILED) | Q(status=Message.Status.GAVE_UP))
                                   .values_list("pk", flat=True))
        self.message_user(request, ngettext("%(count)d message will be tried again.",
                                            "%(count)d messages will be tried again.", count) % {"count": count})


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "event_type", "dossier_code", "feedback_reference", "read_at")
    list_filter = ("event_type",)
    readonly_fields = ("user", "event_type", "dossier_code", "feedback_reference", "title", "body", "created_at",
                       "read_at")
    fields = readonly_fields
    ordering = ("-id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request)


@admin.register(MessageRequest)
class MessageRequestAdmin(admin.ModelAdmin):
    """Requests of client systems (GovStack Messaging): who asked, how many were refused at once; the messages
    themselves are in *Messages*."""
    list_display = ("created_at", "uid", "client", "not_sent")
    list_select_related = ("client",)
    readonly_fields = ("uid", "client", "channel", "callback_uri", "not_sent", "rejected", "created_at")
    fields = readonly_fields
    ordering = ("-id",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request)
