from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "egov.monitoring"
    label = "monitoring"
    verbose_name = _("Service statistics")
    default_auto_field = "django.db.models.BigAutoField"
