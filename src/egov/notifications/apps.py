from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "egov.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from egov.kernel import crypto
        from egov.notifications import services

        crypto.register_sealed_table(crypto.SealedTable("messages", services.message_key_usage,
                                                        services.rotate_message_batch))
