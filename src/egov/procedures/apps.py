from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "egov.procedures"
    label = "procedures"
    verbose_name = _("Procedure catalogue")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from egov.procedures import models, queries

        def changed(**kwargs):
            queries.forget_search_choices()

        # A change to the catalogue is seen at once by this process's searches (the others' keep theirs a minute).
        for model in (models.Procedure, models.ProcedureVersion, models.ProcedureLifeEvent):
            post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"search-{model.__name__}-saved")
            post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"search-{model.__name__}-deleted")
        m2m_changed.connect(changed, sender=models.ProcedureVersion.agencies.through, weak=False,
                            dispatch_uid="search-version-agencies")
