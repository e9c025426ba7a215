from django.apps import AppConfig


class Config(AppConfig):
    name = "egov.portal"
    label = "portal"

    def ready(self):
        from egov.kernel import crypto
        from egov.portal.apply_models import Draft, StoredDocument
        from egov.portal.feedback_models import Feedback

        crypto.register_sealed_model("feedback", Feedback)
        crypto.register_sealed_model("drafts", Draft)
        crypto.register_sealed_model("documents", StoredDocument)
