"""Applying online (nộp hồ sơ trực tuyến) and the citizen's electronic data store (kho dữ liệu điện tử).

``Draft``: an application being filled in, kept server-side after every step (sealed: it holds personal data), so it
survives an expired session and can be resumed from another device. ``DraftFile``: a file uploaded at an attachment
step, kept until the draft is submitted (a later step's error never costs it).

``StoredDocument``: one document in the citizen's data store: a component they filed, or a result delivered to
them. It points at the stored file (a dossier ``Attachment``); what it is (name, procedure, dossier code) is sealed.
``DocumentReuse``: a dossier component satisfied by a stored document instead of a new upload ("once only"); each
is also a ``dossier.document_reused`` ledger event, which the digitisation indicator of the service statistics
counts (``egov.monitoring``: received dossiers filed reusing digitised documents).
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.kernel import crypto


class SealedMixin(crypto.SealedJson):
    """Personal content sealed with AES-GCM under the active data key, bound to the row's uid."""

    aad_prefix = ""

    @property
    def aad(self) -> bytes:
        return f"{self.aad_prefix}:{self.uid}".encode()


class Draft(SealedMixin, models.Model):
    """Hồ sơ nháp: what the applicant has entered so far, step by step."""

    aad_prefix = "portal.draft"

    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    procedure_version = models.ForeignKey("procedures.ProcedureVersion", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    step = models.CharField(max_length=32, default="form-1")
    sealed = models.TextField(blank=True, editable=False)
    key_id = models.CharField(max_length=32, blank=True, editable=False)
    # Made when the draft starts and sent back with the final submission: a double click or a retry finds the
    # dossier already made under it.
    idempotency_key = models.CharField(max_length=64, unique=True)
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("draft application")
        verbose_name_plural = _("draft applications")
        indexes = [models.Index(fields=["owner", "-updated_at"], name="portal_draft_owner"),
                   # The retention pass takes the stalest drafts first (egov retention).
                   models.Index(fields=["updated_at", "id"], name="portal_draft_stale")]


def draft_file_path(instance, filename):
    return f"drafts/{instance.draft.uid}/{uuid.uuid4().hex}"


class DraftFile(models.Model):
    """A component's file uploaded to a draft (checked for type and size when uploaded)."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="files")
    component_code = models.CharField(max_length=64)
    file = models.FileField(upload_to=draft_file_path)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["draft", "component_code"], name="portal_draft_file_unique")]


class StoredDocument(SealedMixin, models.Model):
    """Giấy tờ trong kho dữ liệu điện tử của công dân: a digitised component or a result, kept for its owner."""

    class Kind(models.TextChoices):
        COMPONENT = "component", _("Document you filed")
        RESULT = "result", _("Result you received")

    aad_prefix = "portal.stored_document"

    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stored_documents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What it can stand in for: a component with the same code of the same procedure (codes such as ``DON`` mean
    # different papers in different procedures), or a component whose ``result_of`` names this procedure (for a
    # result). ``procedure_code``: the national code of the procedure it was filed under or is the result of.
    component_code = models.CharField(max_length=64, blank=True)
    procedure_code = models.CharField(max_length=32, blank=True)
    result_of = models.CharField(max_length=32, blank=True)
    attachment = models.ForeignKey("dossiers.Attachment", on_delete=models.PROTECT, related_name="+")
    source_dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="+")
    sealed = models.TextField(editable=False)
    key_id = models.CharField(max_length=32, editable=False)
    stored_at = models.DateTimeField()

    class Meta:
        verbose_name = _("stored document")
        verbose_name_plural = _("stored documents")
        constraints = [models.UniqueConstraint(fields=["owner", "attachment"], name="portal_stored_once")]
        # Newest first with the id as tie-breaker, as the choices at an attachment step read them: without the id
        # in the index, the database sorted all of a citizen's documents on every step (3.8 ms on PostgreSQL with a
        # few thousand, measured with bench/prof_submission.py --qtime).
        # The choices themselves read one procedure's components (or one kind of result) newest first: through the
        # owner's index alone, a business that files for many procedures had all its documents read on every step
        # (1,500 rows for a bench citizen of 100 procedures, a tenth of a submission's CPU).
        indexes = [models.Index(fields=["owner", "-stored_at", "-id"], name="portal_stored_owner_newest"),
                   models.Index(fields=["owner", "kind", "procedure_code", "-stored_at", "-id"],
                                name="portal_stored_procedure"),
                   models.Index(fields=["owner", "kind", "result_of", "-stored_at", "-id"],
                                name="portal_stored_result_of")]


class DocumentReuse(models.Model):
    """A component of a dossier satisfied by a stored document (tái sử dụng dữ liệu số hóa)."""

    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="+")
    component_code = models.CharField(max_length=64)
    document = models.ForeignKey(StoredDocument, on_delete=models.PROTECT, related_name="reuses")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dossier", "component_code"], name="portal_reuse_once")]
