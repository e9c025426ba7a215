"""Feedback and complaints (phản ánh, kiến nghị): what a citizen says about a dossier or a regulation, and how the
concerned agency handles it under DOMAIN.md's deadlines in working days.

The author's name, contact and words are sealed (AES-GCM under ``EGOV_DATA_KEYS``), like the dossiers' content. What
becomes public on publishing is what the officer writes for the public (``public_question``, ``public_answer``:
without personal data), folded into ``search_key`` for search without diacritics.
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.kernel import crypto


class FeedbackStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Received, waiting for the agency")
    ACCEPTED = "accepted", _("Accepted, being handled")
    MORE_INFO = "more_info", _("More information asked from you")
    REFUSED = "refused", _("Refused")
    ANSWERED = "answered", _("Answered")
    PUBLISHED = "published", _("Answered and published")


class FeedbackTopic(models.TextChoices):
    DOSSIER = "dossier", _("A dossier I filed or follow")
    REGULATION = "regulation", _("A regulation or an administrative procedure")


class Feedback(crypto.SealedJson, models.Model):
    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=24, unique=True)
    topic = models.CharField(_("about"), max_length=16, choices=FeedbackTopic.choices)
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("concerned agency"))
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=FeedbackStatus.choices,
                              default=FeedbackStatus.SUBMITTED)
    sealed = models.TextField(editable=False)
    key_id = models.CharField(max_length=32, editable=False)
    # Deadlines (UTC instants, in the agency's working days): decide (refuse) ≤ 2, ask for more ≤ 5, answer ≤ 15
    # from the receipt instant (from the citizen's reply after "ask for more"); publish ≤ 2 after answering.
    submitted_at = models.DateTimeField()
    received_at = models.DateTimeField()
    refuse_due = models.DateTimeField()
    more_info_due = models.DateTimeField()
    answer_due = models.DateTimeField()
    publish_due = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    public_question = models.TextField(_("question as published"), blank=True)
    public_answer = models.TextField(_("answer as published"), blank=True)
    search_key = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        indexes = [models.Index(fields=["agency", "status", "-id"], name="portal_feedback_inbox"),
                   models.Index(fields=["author", "-id"], name="portal_feedback_author"),
                   models.Index(fields=["status", "-published_at"], name="portal_feedback_published")]

    def __str__(self) -> str:
        return self.reference

    @property
    def aad(self) -> bytes:
        return f"portal.feedback:{self.uid}".encode()
