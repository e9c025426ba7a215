"""Procedure catalogue (cơ sở dữ liệu thủ tục hành chính): versioned procedure definitions with effective dates.

A ``Procedure`` is identified by its national code (``1.000656``); what it requires, costs and takes lives in its
``ProcedureVersion`` rows, each effective from a date. A dossier keeps the version it was submitted under, so a
version that a dossier uses is never edited: a change is a new version.
"""
import re
from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.kernel.text import fold


class Level(models.TextChoices):
    """Cấp thực hiện: the level of government that implements the procedure."""
    COMMUNE = "commune", _("Commune")
    PROVINCE = "province", _("Province")
    MINISTRY = "ministry", _("Ministry (central)")


class OnlineLevel(models.TextChoices):
    """Mức độ dịch vụ công trực tuyến (Decree 42/2022)."""
    FULL = "full", _("Full-process online")
    PARTIAL = "partial", _("Partially online")
    NONE = "none", _("Not online")


class LifeEvent(models.TextChoices):
    """Sự kiện trong cuộc đời: what is happening in a citizen's life, the way citizens look for procedures ("we are
    having a baby") rather than by the administration's sectors. A procedure may serve several."""
    BIRTH = "birth", _("Having a baby")
    MARRIAGE = "marriage", _("Getting married")
    DEATH = "death", _("A death in the family")
    MOVING = "moving", _("Moving house")
    BUSINESS = "business", _("Starting a business")
    BUILDING = "building", _("Building a house")
    WORK = "work", _("Working and practising a profession")
    TRAVEL = "travel", _("Travelling abroad")
    PAPERS = "papers", _("Copies and certification of papers")


class Procedure(models.Model):
    """Thủ tục hành chính, identified by its national code."""

    code = models.CharField(_("national code"), max_length=32, unique=True, help_text=_("e.g. 1.000656"))
    name = models.CharField(_("name"), max_length=500)
    sector = models.CharField(_("sector"), max_length=200, db_index=True)
    # fold(code + name): lower case, no diacritics, đ -> d, so that "dang ky khai sinh" finds "Đăng ký khai sinh".
    # Set by save() (and by bulk writers, which must call search_text_of); never shown to a user.
    search_text = models.CharField(max_length=600, db_index=True, editable=False, default="")
    # The procedure's words (procedure_words: code, name, sector and the names of its results) between spaces,
    # " 1.000656 dang ky khai tu 1 000656 ho tich ": once the word index (ProcedureWord) has given the candidates, the
    # other words are checked here, on the row already read, with LIKE '% ky %' (a word) or '% kh%' (a prefix). Set
    # by save(); bulk writers use words_text_of.
    words = models.CharField(max_length=1500, editable=False, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @staticmethod
    def search_text_of(code: str, name: str) -> str:
        return fold(f"{code} {name}")

    @staticmethod
    def words_text_of(code: str, name: str, sector: str = "", results: Iterable[str] = ()) -> str:
        return f" {' '.join(procedure_words(code, name, sector, results))} "

    def result_names(self) -> list[str]:
        """The names of the results its versions issue ("Giấy khai sinh"), which citizens type to find it."""
        if self.pk is None:
            return []
        return sorted(set(ProcedureVersion.objects.filter(procedure=self).values_list("result_type", flat=True)))

    def save(self, *args, update_fields=None, **kwargs):
        """Saves the procedure and keeps its folded search text and its words (ProcedureWord) exact: a renamed
        procedure, one moved to another sector or whose versions issue another result is found by its new words
        only (the catalogue import saves it again after changing its versions). Bulk writers must do the same
        (search_text_of, words_text_of, ProcedureWord.rows_of).
        """
        self.search_text = self.search_text_of(self.code, self.name)
        words = self.words_text_of(self.code, self.name, self.sector, self.result_names())
        changed = words != self.words
        self.words = words
        if update_fields is not None:
            update_fields = {*update_fields, "search_text", "words"}
        super().save(*args, update_fields=update_fields, **kwargs)
        if changed:
            ProcedureWord.index(self)

    def life_event_keys(self) -> list[str]:
        """The procedure's life events (keys of LifeEvent) in declaration order; uses a prefetch when there is one."""
        keys = {tag.event for tag in self.life_event_tags.all()}
        return [key for key in LifeEvent.values if key in keys]


# A word of the search index: a run of letters and digits, with the dots of a code kept inside ("1.001193").
WORD = re.compile(r"\w+(?:\.\w+)*")
WORD_MAX_LENGTH = 64


def search_words(text: str) -> list[str]:
    """The folded words of ``text`` in order, without repeats, each cut to WORD_MAX_LENGTH: "Đăng ký khai sinh" ->
    ["dang", "ky", "khai", "sinh"]. A query is split the same way, so punctuation never hides a word ("cha, mẹ")."""
    return list(dict.fromkeys(word[:WORD_MAX_LENGTH] for word in WORD.findall(fold(text))))


WORDS_MAX_LENGTH = 1500  # Procedure.words
RESULT_QUALIFIER = re.compile(r"[(,;]")


def procedure_words(code: str, name: str, sector: str = "", results: Iterable[str] = ()) -> list[str]:
    """The words a procedure is found by: those of its code and name, and the parts of dotted words ("1.001193" ->
    "1.001193", "1", "001193"), so that a code is found whole or by its number; then those of its sector ("hộ
    tịch") and of the results it issues ("giấy khai sinh"), which citizens type as often as a procedure's name. As
    many as fit in Procedure.words, in that order: the row and the index always hold the same words."""
    words = search_words(f"{code} {name}")
    parts = [part for word in words if "." in word for part in word.split(".")]
    # A result is named up to its first bracket, comma or semicolon: what follows qualifies it ("Giấy khai sinh (bản
    # chính điện tử) và …"), and its words ("điện tử") would make "khai tu" find a birth registration.
    named = [RESULT_QUALIFIER.split(result, maxsplit=1)[0] for result in results]
    every = list(dict.fromkeys([*words, *parts, *search_words(" ".join([sector, *named]))]))
    kept, length = [], 2
    for word in every:
        length += len(word) + 1
        if length > WORDS_MAX_LENGTH:
            break
        kept.append(word)
    return kept


class ProcedureWord(models.Model):
    """Từ khóa tra cứu: one folded word of a procedure's code or name, one row per (word, procedure).

    The search index of the catalogue, portable to SQLite and PostgreSQL: the unique constraint's B-tree on (word,
    procedure) finds a typed word by equality and the last, perhaps unfinished, word as a prefix by a range; a query
    keeps the procedures that have every word. Dotted codes are indexed whole and by their parts ("1.001193", "1",
    "001193"). Written by Procedure.save (a rename replaces the words) and by bulk writers through rows_of."""

    word = models.CharField(max_length=WORD_MAX_LENGTH)
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        # (word, procedure) finds the procedures with a word; (procedure, word) checks whether a procedure has one.
        constraints = [models.UniqueConstraint(fields=["word", "procedure"], name="procedures_word_unique")]
        indexes = [models.Index(fields=["procedure", "word"], name="procedures_word_of_procedure")]

    def __str__(self) -> str:
        return self.word

    @classmethod
    def rows_of(cls, procedure: Procedure) -> list["ProcedureWord"]:
        """The rows of a new procedure, for bulk writers (bulk_create skips save()): the words its row holds
        (``words``, from Procedure.words_text_of)."""
        return [cls(word=word, procedure=procedure) for word in procedure.words.split()]

    @classmethod
    def index(cls, procedure: Procedure) -> None:
        """The procedure's words become exactly those its row holds (``Procedure.words``, set by save())."""
        wanted = set(procedure.words.split())
        current = set(cls.objects.filter(procedure=procedure).values_list("word", flat=True))
        if current - wanted:
            cls.objects.filter(procedure=procedure, word__in=current - wanted).delete()
        cls.objects.bulk_create([cls(word=word, procedure=procedure) for word in sorted(wanted - current)])


class ProcedureLifeEvent(models.Model):
    """A life event a procedure serves (one row per pair), so that filtering by life event is an indexed join."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="life_event_tags",
                                  verbose_name=_("procedure"))
    event = models.CharField(_("life event"), max_length=16, choices=LifeEvent.choices)

    class Meta:
        verbose_name = _("life event of a procedure")
        verbose_name_plural = _("life events of procedures")
        constraints = [models.UniqueConstraint(fields=["event", "procedure"], name="procedures_life_event_unique")]

    def __str__(self) -> str:
        return f"{self.procedure.code} {self.event}"


class ProcedureVersion(models.Model):
    """One version of a procedure, in force from ``effective_from`` (inclusive) until the next version's date.

    JSON fields (shapes documented in docs/catalogue-format.md):
    ``steps``: [{"id": "process", "name": ..., "role": "specialist", "working_days": 3}] — ids are the BPMN user
    task ids; their working days add up to ``duration_days``.
    ``fees``: [{"code": ..., "name": ..., "amount": 50000}] in VND.
    ``components``: [{"code": ..., "name": ..., "required": true, "template": "", "result_of": "1.000656"}] —
    ``result_of`` names a procedure whose earlier result can stand in for the component; ``"eform": true`` (at most
    one) marks the declaration (tờ khai) that the e-form's answers stand for when applying online.
    ``form_schema``: the e-form as JSON Schema; ``ui_schema``: UI hints per field.
    """

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions",
                                  verbose_name=_("procedure"))
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    name = models.CharField(_("name"), max_length=500)
    sector = models.CharField(_("sector"), max_length=200)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    agencies = models.ManyToManyField("registries.Agency", related_name="procedure_versions",
                                      verbose_name=_("implementing agencies"))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    duration_days = models.DecimalField(_("duration in working days"), max_digits=6, decimal_places=2)
    same_day = models.BooleanField(_("resolved within the day"), default=False,
                                   help_text=_("Dossiers arriving after 15:00 count from the next working day."))
    steps = models.JSONField(_("processing steps"), default=list)
    fees = models.JSONField(_("fees"), default=list)
    components = models.JSONField(_("dossier components"), default=list)
    form_schema = models.JSONField(_("e-form (JSON Schema)"), default=dict)
    ui_schema = models.JSONField(_("e-form UI hints"), default=dict, blank=True)
    online_level = models.CharField(_("online level"), max_length=8, choices=OnlineLevel.choices)
    min_assurance_level = models.PositiveSmallIntegerField(_("minimum assurance level"), default=1)
    auto_receive = models.BooleanField(_("received automatically at submission"), default=False)
    result_type = models.CharField(_("result"), max_length=300)
    # Đối tượng thực hiện: who may file it ("Công dân Việt Nam cư trú trong nước"), shown on the procedure's page.
    applicants = models.TextField(_("who can apply"), blank=True)
    result_template = models.TextField(_("result template"), blank=True)
    registry_effect = models.CharField(_("effect on a registry"), max_length=64, blank=True,
                                       help_text=_("e.g. population.birth: approving registers the child"))
    bpmn = models.TextField(_("processing steps (BPMN 2.0 XML)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("procedure version")
        verbose_name_plural = _("procedure versions")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "version"], name="procedures_version_unique"),
            models.UniqueConstraint(fields=["procedure", "effective_from"], name="procedures_version_one_per_day"),
        ]
        ordering = ["procedure__code", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.procedure.code} v{self.version} ({self.effective_from})"

    @property
    def offered_online(self) -> bool:
        """Whether citizens may apply for it online at all (fully or partly: level full or partial)."""
        return self.online_level != OnlineLevel.NONE

    @property
    def eform_component(self) -> dict | None:
        """Tờ khai điện tử: the component (the paper declaration) that the e-form's answers stand for when applying
        online, so that an online applicant fills the form in once instead of also printing, signing and scanning
        it; None when the catalogue marks none."""
        return next((c for c in self.components or [] if c.get("eform")), None)

    def declaration_from_answers(self, filed_codes: set[str]) -> dict | None:
        """The ``eform_component`` when the answers stand for it: unless a file was filed for it (a signed
        declaration uploaded anyway, say by a draft started before the catalogue marked it), which is then the
        declaration."""
        component = self.eform_component
        return None if component is None or component["code"] in filed_codes else component

    @property
    def open_to_applying_for_others(self) -> bool:
        """Online, someone may apply on behalf of the person concerned (a parent for a child) when the e-form asks
        for the applicant's relationship to that person (a ``relationship`` field: birth and death registration in the
        demo catalogue): the field is the procedure's own statement that it accepts it."""
        return "relationship" in ((self.form_schema or {}).get("properties") or {})

    @property
    def total_fee(self) -> int:
        return sum(int(fee.get("amount", 0)) for fee in self.fees)
