"""One-stop dossiers (hồ sơ thủ tục hành chính): what an applicant filed, its legal status, its clock and its history.

The legal status is ours (the ten codes of DOMAIN.md); the internal processing steps run in the procedure version's
BPMN (``workflow.py``), whose state is kept on the dossier. Only ``services.py`` changes these rows.

Personal data (names, ID numbers, contact details, the e-form's answers) are sealed like the population registry's
(``sealed``, AES-GCM under ``EGOV_DATA_KEYS``): a database dump shows none of them.
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from egov.kernel import crypto


class Status(models.IntegerChoices):
    """Trạng thái hồ sơ: the codes used when synchronising with the national portal."""
    SUBMITTED = 1, _("Submitted online, not yet received")
    RECEIVED = 2, pgettext_lazy("dossier status", "Received")  # not the column "Received" (the date)
    REFUSED = 3, _("Not received")
    PROCESSING = 4, _("Being processed")
    SUPPLEMENT_REQUESTED = 5, _("Supplement requested")
    FEES_DUE = 6, _("Fees or taxes due")
    WITHDRAWAL_REQUESTED = 7, _("Applicant asked to withdraw")
    STOPPED = 8, _("Processing stopped")
    RESULT_READY = 9, _("Result ready")
    DELIVERED = 10, _("Result delivered")


class Channel(models.IntegerChoices):
    """Kênh nộp hồ sơ."""
    IN_PERSON = 1, _("In person")
    ONLINE = 2, _("Online")
    POST = 3, _("Public postal service")


class ResultDelivery(models.TextChoices):
    """How the applicant asked to receive the result (hình thức nhận kết quả), chosen when applying online."""
    ONLINE = "online", _("Online: I download the signed electronic result from my dossier's page")
    DESK = "desk", _("At the reception and result desk")


class Dossier(crypto.SealedJson, models.Model):
    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("dossier code"), max_length=40, unique=True)
    procedure_version = models.ForeignKey("procedures.ProcedureVersion", on_delete=models.PROTECT,
                                          related_name="dossiers", verbose_name=_("procedure version"))
    # No index of its own: the indexes below start with it (a single-column one would only tempt the planner into
    # reading table rows that dossiers_inbox answers alone, e.g. the inbox's counts per status).
    receiving_agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, related_name="dossiers",
                                         verbose_name=_("receiving agency"), db_index=False)
    channel = models.PositiveSmallIntegerField(_("channel"), choices=Channel.choices)
    status = models.PositiveSmallIntegerField(_("status"), choices=Status.choices)
    status_before_withdrawal = models.PositiveSmallIntegerField(null=True, blank=True, choices=Status.choices)
    # Người nộp (applicant) and người được giải quyết (subject) are distinct: a parent files for a child.
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="dossiers_filed", verbose_name=_("applicant's account"))
    applicant_person = models.ForeignKey("registries.Person", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("applicant in the population registry"))
    subject_person = models.ForeignKey("registries.Person", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("subject in the population registry"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("desk officer who filed it"))
    sealed = models.TextField(editable=False)
    key_id = models.CharField(max_length=32, editable=False)
    # The clock (all UTC instants).
    submitted_at = models.DateTimeField(_("submitted at"))
    received_at = models.DateTimeField(_("receipt instant"), null=True, blank=True)
    appointment_at = models.DateTimeField(_("appointment date"), null=True, blank=True)
    original_appointment_at = models.DateTimeField(_("first appointment date"), null=True, blank=True)
    rescheduled_at = models.DateTimeField(_("apology issued at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("processing ended at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # Chosen online ("" at the desk or by post, and before it was asked): ONLINE has the platform deliver the signed
    # result as soon as it is ready (9 → 10), with no officer in between.
    result_delivery = models.CharField(_("result delivery"), max_length=8, blank=True, choices=ResultDelivery.choices)
    # The working time the dossier is allowed, in working hours: the version's duration (8 h a day) until an apology
    # (form 04) sets a new appointment date; the appointment is always recomputed from it and the closed pauses.
    allowed_hours = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    supplement_count = models.PositiveSmallIntegerField(default=0)
    workflow_state = models.JSONField(default=dict, blank=True, editable=False)
    current_step = models.CharField(_("current step"), max_length=64, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="dossiers_assigned", verbose_name=_("assigned to"))
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        indexes = [
            models.Index(fields=["receiving_agency", "status", "-id"], name="dossiers_inbox"),
            # The agency's newest dossiers whatever their status (Registration API list, the inbox's "all" view).
            models.Index(fields=["receiving_agency", "-id"], name="dossiers_agency_newest"),
            models.Index(fields=["receiving_agency", "appointment_at"], name="dossiers_agency_due"),
            models.Index(fields=["applicant", "-id"], name="dossiers_applicant"),
            models.Index(fields=["assignee", "status", "-id"], name="dossiers_assignee"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def aad(self) -> bytes:
        return f"dossiers.dossier:{self.uid}".encode()

    def declaration_from_answers(self, filed_codes: set[str]) -> dict | None:
        """Tờ khai điện tử: the component that this dossier's e-form answers stand for, given the codes of the
        components filed as files; only online (at the desk the signed paper is filed)."""
        if self.channel != Channel.ONLINE:
            return None
        return self.procedure_version.declaration_from_answers(filed_codes)


class AgencyStatusCount(models.Model):
    """Số hồ sơ theo trạng thái: how many dossiers a receiving agency holds in each status (the inbox's tabs), kept
    by the services in the transaction of every move, so that the inbox never counts the agency's dossiers one by one.

    Each agency and status is spread over ``SLOTS`` rows (the dossier's id modulo ``SLOTS``), summed when read: a
    move locks its slot's rows until it commits, and concurrent moves of different dossiers of one agency seldom
    share a slot, so they seldom wait for each other."""
    SLOTS = 8

    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, related_name="+")
    status = models.PositiveSmallIntegerField(choices=Status.choices)
    slot = models.PositiveSmallIntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "status", "slot"], name="dossiers_status_count_unique")]


class DossierCodeSequence(models.Model):
    """The last sequence number given per receiving unit and day: codes without gaps (the row is locked in the
    transaction that creates the dossier, so a rolled-back submission gives its number back)."""
    agency_code = models.CharField(max_length=13)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency_code", "day"], name="dossiers_code_sequence_unique")]


class Transition(models.Model):
    """One change of legal status, with the document issued for it: the dossier's history (form 06, form 07)."""
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.PositiveSmallIntegerField(null=True, blank=True, choices=Status.choices)
    to_status = models.PositiveSmallIntegerField(choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    at = models.DateTimeField()
    form = models.CharField(_("document"), max_length=8, blank=True, help_text=_("01..07, or 'result'"))
    note = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dossier", "at", "id"], name="dossiers_transition_history"),
                   models.Index(fields=["at", "id"], name="dossiers_transition_time")]
        ordering = ["at", "id"]

    @property
    def form_label(self) -> str:
        """The document issued, as the history shows it (its code only when the rules do not name it)."""
        from egov.dossiers.rules import DOCUMENT_LABELS

        if self.form == "result" and self.from_status == self.to_status:
            # The signing, recorded before the move to 9 that also issues "the result": the two rows of the history
            # say what each did, the first with the code the signed result bears.
            code = (self.details or {}).get("result_code")
            return str(_("Result signed, code %(code)s") % {"code": code} if code else _("Result signed"))
        return str(DOCUMENT_LABELS.get(self.form, self.form))


class Pause(models.Model):
    """Time the clock stands still: waiting for a supplement or for fees."""

    class Reason(models.TextChoices):
        SUPPLEMENT = "supplement", _("Waiting for the applicant's supplement")
        FEES = "fees", _("Waiting for fees to be paid")

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="pauses")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]


class Step(models.Model):
    """One processing step (a BPMN user task) as it ran: who, from when, due when, done when, early/on time/late."""

    class Verdict(models.TextChoices):
        EARLY = "early", _("Early")
        ON_TIME = "on_time", _("On time")
        LATE = "late", _("Late")

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="steps")
    task_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=32)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    verdict = models.CharField(max_length=8, choices=Verdict.choices, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]


def attachment_path(instance, filename):
    return f"dossiers/{instance.dossier.uid}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file of the dossier: a component, a scan from the post, a supplement, a draft result, the result. Stored
    through the storage API under a random name. The uploader's file name is not kept (names like
    "CCCD_Nguyen_Van_A.pdf" are personal data): ``name`` is made from the component and the sniffed type."""

    class Kind(models.TextChoices):
        COMPONENT = "component", _("Dossier component")
        SUPPLEMENT = "supplement", _("Supplement")
        # Dự thảo kết quả: prepared while processing steps remain open; unsigned, without a result code, for the
        # agency's officers only (the applicant never sees or downloads one).
        DRAFT = "draft", _("Draft result")
        RESULT = "result", _("Result")

    # A result replaced before delivery (a corrected one was attached) stays in the dossier as a supplement with this
    # code, for the agency's record; the applicant never sees it: it was never delivered and may be wrong.
    REPLACED_RESULT = "replaced-result"
    # A draft's ``component_code``: uploaded by an officer (signed as it is) or rendered from the procedure's template
    # (rendered again when the result is signed, after the approval's effects); a draft a newer one replaced keeps
    # REPLACED_DRAFT, for the agency's record, as a replaced result does.
    DRAFT_UPLOADED = "result"
    DRAFT_GENERATED = "generated"
    REPLACED_DRAFT = "replaced-draft"

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    component_code = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]


class Rating(crypto.SealedJson, models.Model):
    """Đánh giá mức độ hài lòng: the applicant's satisfaction with one dossier, given once (1 to 5, and a comment),
    after the result is delivered or processing ended. The agency and procedure are copied so that satisfaction can
    be counted per agency and procedure without reading dossiers. The comment may name people: it is sealed."""
    dossier = models.OneToOneField(Dossier, on_delete=models.PROTECT, related_name="rating")
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey("procedures.Procedure", on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("satisfaction"))
    sealed = models.TextField(editable=False)
    key_id = models.CharField(max_length=32, editable=False)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["agency", "rated_at"], name="dossiers_rating_agency"),
                   models.Index(fields=["procedure", "rated_at"], name="dossiers_rating_procedure")]
        constraints = [models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5),
                                              name="dossiers_rating_score_1_to_5")]

    @property
    def aad(self) -> bytes:
        return f"dossiers.rating:{self.dossier_id}".encode()

    def comment(self) -> str:
        return self.content().get("comment", "")
from egov.dossiers.result_models import IssuedResult  # noqa: E402,F401  (signed results: their own room)
