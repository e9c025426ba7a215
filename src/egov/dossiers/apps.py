from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "egov.dossiers"
    label = "dossiers"
    verbose_name = _("One-stop dossiers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from egov.dossiers.models import Dossier, Rating
        from egov.kernel import crypto

        # Every sealed table is re-sealed by `egov keys rotate` and counted by `egov keys status`.
        crypto.register_sealed_model("dossiers", Dossier)
        crypto.register_sealed_model("ratings", Rating)
