"""Applying online (nộp hồ sơ trực tuyến): drafts kept server-side step by step, then one submission.

The steps come from the procedure version (``plan``): the e-form's fields in ``ui:order`` (else the schema's order),
``FIELDS_PER_STEP`` to a step; the subject step when the procedure may be applied for on behalf of someone else
(``on_behalf_allowed``); one step per group of components (required documents, then optional ones); the review.

A draft is saved on every step, valid or not (what was typed is never lost), sealed (it holds personal data), and
belongs to its owner alone (anyone else gets 404). The submission goes through ``dossiers.services.submit_online``
with the draft's idempotency key: a double click or a retry returns the dossier already made.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from egov.dossiers import services as dossier_services
from egov.dossiers.forms import field_order
from egov.dossiers.models import Dossier
from egov.kernel.db import delete, insert, read_all, update
from egov.portal.apply_models import Draft, DraftFile, StoredDocument
from egov.procedures.models import ProcedureVersion

FIELDS_PER_STEP = 6
# Kept in English in the ledger, shown in the reader's language on /my/data-access/.
PREFILL_PURPOSE = gettext_noop("prefill an online application")


class ApplyError(ValidationError):
    """The draft cannot go on or be submitted as it is; ``message_dict`` maps fields to messages."""


@dataclass
class StepSpec:
    id: str
    kind: str                     # "form", "subject", "files", "review"
    title: str
    names: list[str] = field(default_factory=list)        # e-form fields (kind "form")
    components: list[dict] = field(default_factory=list)  # components (kind "files")


# --- The procedure's steps -------------------------------------------------------------------------------------------

def current_version(code: str, *, today=None) -> ProcedureVersion | None:
    """The version in force today of the procedure with national code ``code``."""
    today = today or timezone.localdate()
    return (ProcedureVersion.objects.filter(procedure__code=code, effective_from__lte=today)
            .select_related("procedure").order_by("-effective_from", "-version").first())


def may_apply_online(version: ProcedureVersion) -> bool:
    return version.offered_online


def on_behalf_allowed(version: ProcedureVersion) -> bool:
    """Whether someone may apply on behalf of the person concerned (ProcedureVersion.open_to_applying_for_others)."""
    return version.open_to_applying_for_others


def plan(version: ProcedureVersion) -> list[StepSpec]:
    steps = []
    names = field_order(version)
    chunks = [names[i:i + FIELDS_PER_STEP] for i in range(0, len(names), FIELDS_PER_STEP)] or [[]]
    for number, chunk in enumerate(chunks, start=1):
        title = (gettext_lazy("Your application") if len(chunks) == 1
                 else _("Your application (part %(n)s of %(total)s)") % {"n": number, "total": len(chunks)})
        steps.append(StepSpec(id=f"form-{number}", kind="form", title=title, names=chunk))
    if on_behalf_allowed(version):
        steps.append(StepSpec(id="subject", kind="subject", title=gettext_lazy("Who the application is for")))
    components = components_to_file(version)
    required = [c for c in components if c.get("required", True)]
    optional = [c for c in components if not c.get("required", True)]
    if required:
        steps.append(StepSpec(id="files-required", kind="files", title=gettext_lazy("Required documents"),
                              components=required))
    if optional:
        steps.append(StepSpec(id="files-optional", kind="files", title=gettext_lazy("Other documents (if you have them)"),
                              components=optional))
    steps.append(StepSpec(id="review", kind="review", title=gettext_lazy("Check and submit")))
    return steps


def components_to_file(version: ProcedureVersion) -> list[dict]:
    """The components an online applicant files (uploads, or picks from the data store): all but the declaration
    that the e-form's answers stand for (tờ khai điện tử, ``ProcedureVersion.eform_component``)."""
    return [c for c in version.components or [] if not c.get("eform")]


def step_of_field(version: ProcedureVersion, name: str) -> str:
    """The step where a service error about ``name`` (``form.x``, ``file_x``, ``subject.x``, ``agency``) is fixed."""
    for step in plan(version):
        if step.kind == "form" and (name == "agency" or name == "procedure" or
                                    name.removeprefix("form.").split(".")[0] in step.names):
            if name in ("agency", "procedure") and step.id != "form-1":
                continue
            return step.id
        if step.kind == "subject" and name.startswith("subject"):
            return step.id
        if step.kind == "files" and name.removeprefix("file_") in {c["code"] for c in step.components}:
            return step.id
    return "review"


# --- Drafts ----------------------------------------------------------------------------------------------------------

def _require_may_apply(user, version: ProcedureVersion) -> None:
    from egov.accounts.services import require_assurance

    if not getattr(user, "is_authenticated", False):
        raise dossier_services.NotAllowed(_("Sign in to apply online."))
    require_assurance(user, version.min_assurance_level)
    if not may_apply_online(version):
        raise ApplyError({"procedure": [_("This procedure cannot be applied for online; go to the agency's desk.")]})


def prefill(user, version: ProcedureVersion) -> dict:
    """What the applicant's own record in the population registry fills in (the read is logged with its purpose,
    and the applicant sees it under "Who accessed my data")."""
    if not user.person_id:
        return {}
    from egov.accounts.services import caller_for_user
    from egov.registries.services import read_person

    data = read_person(user.person, caller=caller_for_user(user), purpose=PREFILL_PURPOSE)
    own = {"full_name": data.full_name, "pin": data.personal_id_number, "personal_id_number": data.personal_id_number,
           "date_of_birth": data.date_of_birth, "address": data.current_address or data.permanent_address,
           "phone": data.phone, "email": data.email}
    # The applicant is the mother/wife or the father/husband named in the e-form, by the sex in their record.
    from egov.portal.apply_forms import to_raw
    from egov.registries.rules import Sex

    prefixes = ("applicant_", "mother_", "wife_") if data.sex == Sex.FEMALE else ("applicant_", "father_", "husband_")
    values = {}
    for name, spec in ((version.form_schema or {}).get("properties") or {}).items():
        key = name
        for prefix in prefixes:
            key = key.removeprefix(prefix)
        if own.get(key):
            values[name] = to_raw(own[key], spec or {})
    return values


def remembered(user, version: ProcedureVersion, *, filled: dict) -> tuple[dict, dict]:
    """From the applicant's data store: the answers they gave to the fields the catalogue marks ``remember`` (facts
    that stay true from one application to the next, such as the other parent of a second child) in their newest
    earlier dossier of the same procedure, for the fields ``filled`` (the registry's prefill) leaves empty. Returns
    the answers as the fields show them, and where they came from (dossier code, date, field names) for the
    step's notice; nothing when there is no such dossier or nothing to take from it."""
    from egov.portal.apply_forms import to_raw

    properties = (version.form_schema or {}).get("properties") or {}
    wanted = [name for name, hints in (version.ui_schema or {}).items()
              if isinstance(hints, dict) and hints.get("remember") and name in properties and not filled.get(name)]
    if not wanted:
        return {}, {}
    # Newest first by the applicant's own index (dossiers_applicant); a citizen has few dossiers of one procedure.
    earlier = (Dossier.objects.filter(applicant=user, procedure_version__procedure_id=version.procedure_id)
               .only("id", "uid", "code", "submitted_at", "sealed", "key_id").order_by("-id").first())
    if earlier is None:
        return {}, {}
    answers = earlier.content().get("form") or {}
    values = {name: to_raw(answers[name], properties[name] or {}) for name in wanted
              if answers.get(name) not in (None, "")}
    if not values:
        return {}, {}
    source = {"code": earlier.code, "date": timezone.localtime(earlier.submitted_at).strftime("%d/%m/%Y"),
              "fields": sorted(values)}
    return values, source


def stored_documents_for(user, version: ProcedureVersion, *, per_component: int = 3,
                         catch_up: bool = True) -> dict[str, list[StoredDocument]]:
    """The applicant's newest stored documents that can stand in for each component of ``version`` (a few each);
    ``catch_up`` first keeps the results delivered since (done when the choice is shown, not when it is posted)."""
    if catch_up:
        dossier_services.keep_delivered_results(user)
    components = components_to_file(version)
    codes = [c["code"] for c in components]
    results = [c["result_of"] for c in components if c.get("result_of")]
    if not codes:
        return {}
    # Read by hand (kernel.db): every attachment step reads it, on every post too (its choices are checked). A
    # component only from the same procedure (index portal_stored_procedure), a result by what it is the result of
    # (portal_stored_result_of), each newest first: two reads, as one with OR could follow neither index in order.
    procedure_code = version.procedure.code
    limit = per_component * len(codes) * 4
    newest = "t.stored_at DESC, t.id DESC"
    candidates = read_all(
        StoredDocument, f"t.owner_id = %s AND t.kind = %s AND t.procedure_code = %s "
                        f"AND t.component_code IN ({', '.join(['%s'] * len(codes))})",
        [user.pk, StoredDocument.Kind.COMPONENT.value, procedure_code, *codes], order_by=newest, limit=limit)
    if results:
        candidates += read_all(
            StoredDocument, f"t.owner_id = %s AND t.kind = %s AND t.result_of IN ({', '.join(['%s'] * len(results))})",
            [user.pk, StoredDocument.Kind.RESULT.value, *results], order_by=newest, limit=limit)
        candidates.sort(key=lambda document: (document.stored_at, document.pk), reverse=True)
    fitting: dict[str, list[StoredDocument]] = {}
    for component in components:
        for document in candidates:
            kept = fitting.setdefault(component["code"], [])
            if len(kept) < per_component and dossier_services.stored_document_fits(document, component,
                                                                                   procedure_code=procedure_code):
                if not hasattr(document, "label"):
                    # Opened only when shown: a posted choice is checked against the uids alone.
                    document.label = _described(document)
                kept.append(document)
    return {code: documents for code, documents in fitting.items() if documents}


DATA_STORE_CONSUMER = "portal.data_store"


def keep_delivered(batch_size: int = 500) -> int:
    """One pass of the ledger consumer ``portal.data_store``: each result delivered since the last pass goes into its
    applicant's data store, kept since its delivery (``dossiers.services.data_store_consumer``; idempotent). Run by
    ``egov notify`` with the other consumers, or by the task ``portal.tasks.data_store_pass``. Returns how many
    events were read."""
    from egov.kernel import ledger

    return ledger.consume(DATA_STORE_CONSUMER, dossier_services.data_store_consumer, batch_size=batch_size)


def describe(document: StoredDocument) -> str:
    meta = document.content()
    return _("%(name)s (dossier %(code)s, %(date)s)") % {
        "name": meta.get("name", ""), "code": meta.get("dossier_code", ""),
        "date": timezone.localtime(document.stored_at).strftime("%d/%m/%Y")}


_described = lazy(describe, str)  # made once: lazy() builds a class on every call


@transaction.atomic
def start_draft(user, version: ProcedureVersion) -> Draft:
    """Bắt đầu nộp hồ sơ: a new draft, prefilled from the population registry and from the applicant's earlier
    dossier of the procedure (``remembered``), and offering stored documents."""
    _require_may_apply(user, version)
    agencies = list(version.agencies.all())
    draft = Draft(owner=user, procedure_version=version, idempotency_key=secrets.token_urlsafe(32),
                  agency=agencies[0] if len(agencies) == 1 else None, step=plan(version)[0].id)
    reuse = {code: str(documents[0].uid) for code, documents in stored_documents_for(user, version).items()}
    raw = prefill(user, version)
    earlier, source = remembered(user, version, filled=raw)
    draft.seal({"raw": {**raw, **earlier}, "subject": {}, "reuse": reuse, "remembered": source})
    draft.save()
    return draft


def drafts_of(user, *, procedure_id: int | None = None):
    """My drafts: the applications not submitted yet, newest first; only those of one procedure (any of its
    versions) when ``procedure_id`` is given."""
    drafts = Draft.objects.filter(owner=user, dossier__isnull=True)
    if procedure_id is not None:
        drafts = drafts.filter(procedure_version__procedure_id=procedure_id)
    return drafts.select_related("procedure_version__procedure").order_by("-updated_at", "-id")


def start_or_resume(user, version: ProcedureVersion, *, new: bool) -> tuple[Draft, bool]:
    """"Start the application": the newest unsubmitted draft of this procedure when there is one, unless ``new`` (a
    new application asked for by name on the start page); else a new draft. A second click, or a start page left
    open in another tab, thus goes on with the draft instead of making identical ones. Returns the draft and
    whether it is one resumed."""
    if not new:
        _require_may_apply(user, version)  # as start_draft would: a level too low is refused either way
        newest = drafts_of(user, procedure_id=version.procedure_id).first()
        if newest is not None:
            return newest, True
    return start_draft(user, version), False


def progress(draft: Draft) -> dict:
    """Where a draft has got to: the step it goes on with (by the plan of its version), its number, how many steps
    there are. A step the plan no longer has (the catalogue changed the form) counts as the first."""
    steps = plan(draft.procedure_version)
    index = next((i for i, spec in enumerate(steps) if spec.id == draft.step), 0)
    return {"draft": draft, "step": steps[index], "number": index + 1, "total": len(steps)}


class DraftSubmitted(Exception):
    """The draft was submitted: it is a dossier now, whose record is not the applicant's to delete (they may
    withdraw the dossier instead)."""

    def __init__(self, dossier):
        super().__init__(dossier.code)
        self.dossier = dossier


def draft_to_delete(user, uid) -> tuple[Draft, int]:
    """The user's own unsubmitted draft and how many files were uploaded to it, for the confirmation that says what
    deleting it loses. Someone else's draft, or none: ``Draft.DoesNotExist``; a submitted one: ``DraftSubmitted``."""
    draft = draft_of(user, uid)
    if draft.dossier_id:
        raise DraftSubmitted(draft.dossier)
    return draft, DraftFile.objects.filter(draft=draft).count()


def delete_draft(user, uid) -> int:
    """Xóa hồ sơ nháp: the owner deletes a draft not submitted yet, with the files uploaded to it (rows, then the
    stored files and the draft's folder once that has committed). Documents chosen from the data store are the
    applicant's own and stay. Returns how many files were deleted; errors as ``draft_to_delete``."""
    from egov.kernel import ledger

    if not getattr(user, "is_authenticated", False):
        raise Draft.DoesNotExist
    with transaction.atomic():
        # Locked: a submission that commits first makes it a dossier, and then it is not deleted.
        draft = Draft.objects.select_for_update().filter(owner=user, uid=uid).first()
        if draft is None:
            raise Draft.DoesNotExist
        if draft.dossier_id:
            raise DraftSubmitted(Dossier.objects.get(pk=draft.dossier_id))
        draft_files = list(DraftFile.objects.filter(draft=draft).values_list("id", "file"))
        delete(DraftFile, [pk for pk, _name in draft_files])
        delete(Draft, [draft.pk])
        ledger.append("portal.draft_deleted", partition="platform", actor=user, subject=draft,
                      payload={"files": len(draft_files)})
    # After the commit: a failure above leaves the rows and their files together.
    _delete_stored([name for _pk, name in draft_files])
    _delete_stored([], folder=f"drafts/{draft.uid}")
    return len(draft_files)


def fees_to_pay(version: ProcedureVersion, answers: dict | None = None) -> tuple[list[dict], int]:
    """The fee lines and their total (VND) that the applicant will be asked to pay for ``version`` given the e-form
    ``answers`` (the draft's, as typed): computed by the payments rules, as the payment request is made
    (``payments.services.open_request``), so a fee that counts copies or pages says how many and what they cost.
    A missing or invalid answer counts as the minimum; nothing is asked when the version has no fees."""
    from egov.payments import rules as payment_rules

    lines = payment_rules.fee_lines(version.fees, answers)
    return lines, payment_rules.total(lines)


def draft_of(user, uid) -> Draft:
    """The user's own draft; anyone else's is ``Draft.DoesNotExist`` (404: whether it exists is not revealed)."""
    if not getattr(user, "is_authenticated", False):
        raise Draft.DoesNotExist
    from egov.portal.queries import own_draft

    return own_draft(user, uid)


def merged(draft: Draft, *, raw: dict | None = None, subject: dict | None = None, reuse: dict | None = None,
           **_other) -> dict:
    """The draft's content with what a step posted (nothing saved); a stored document chosen as "" is no choice."""
    content = draft.content()
    if raw is not None:
        content.setdefault("raw", {}).update(raw)
    if subject is not None:
        content["subject"] = subject
    if reuse is not None:
        content.setdefault("reuse", {}).update(reuse)
        content["reuse"] = {code: uid for code, uid in content["reuse"].items() if uid}
    return content


def save_step(draft: Draft, *, raw: dict | None = None, subject: dict | None = None, reuse: dict | None = None,
              agency=None, step: str | None = None, files: list[tuple[str, bytes, str]] = ()) -> dict[str, DraftFile]:
    """Keep what the step posted (valid or not), the files checked by ``check_uploads`` (each replacing an earlier
    upload of its component) and, when given, the step to go on with: one write of the draft, in one transaction
    with its files. Returns the files kept, by component."""
    draft.seal(merged(draft, raw=raw, subject=subject, reuse=reuse))
    if agency is not None:
        draft.agency = agency
    if step is not None:
        draft.step = step
    fields = ("sealed", "key_id", "agency", "step", "updated_at")
    if not files:
        update(draft, fields)
        return {}
    # The files are written before the transaction and the replaced ones removed after it: the transaction holds
    # only the rows (on SQLite, the one writer), and a failed one leaves the draft's earlier files in place.
    kept = {}
    try:
        for code, content, mime in files:
            new = DraftFile(draft=draft, component_code=code, content_type=mime, size=len(content),
                            sha256=hashlib.sha256(content).hexdigest())
            new.file.save("upload", ContentFile(content), save=False)
            kept[code] = new
        with transaction.atomic():
            replaced = [old for old in _files_of(draft) if old.component_code in kept]
            delete(DraftFile, [old.pk for old in replaced])
            for new in kept.values():
                insert(new)
            update(draft, fields)
    except BaseException:
        _delete_stored([new.file.name for new in kept.values()])
        raise
    _delete_stored([old.file.name for old in replaced])
    return kept


def check_uploads(draft: Draft, uploads: list[tuple[str, object]]) -> tuple[list[tuple[str, bytes, str]], dict]:
    """Check each uploaded file on its own (type sniffed, size): the good ones as (code, content, type), to keep with
    ``save_step``; a wrong or oversized file is refused with its reason and costs the others nothing."""
    errors: dict[str, list[str]] = {}
    checked = []
    for code, upload in uploads:
        try:
            checked.extend(dossier_services.check_files([(code, upload)], draft.procedure_version.components,
                                                        require_all=False))
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    return checked, errors


def uploaded(draft: Draft) -> dict[str, DraftFile]:
    return {f.component_code: f for f in _files_of(draft)}


def _files_of(draft: Draft) -> list[DraftFile]:
    return read_all(DraftFile, "t.draft_id = %s", [draft.pk], order_by="t.id")


def missing_documents(components: list[dict], have: set[str]) -> dict[str, list[str]]:
    """Required components with neither an uploaded file nor a stored document chosen (``have``: the codes that
    have one)."""
    return {f"file_{c['code']}": [_("Attach this document, or choose one from your data store.")]
            for c in components if c.get("required", True) and not c.get("eform") and c["code"] not in have}


# --- Submission ------------------------------------------------------------------------------------------------------

def _form_data(draft: Draft) -> tuple[dict, dict]:
    """The e-form's answers from the draft's raw entries, through the same fields as the steps; field errors."""
    from egov.portal.apply_forms import EFormStep

    raw = draft.content().get("raw", {})
    version = draft.procedure_version
    form = EFormStep({f"form_{k}": v for k, v in raw.items()}, version=version, names=field_order(version))
    if form.is_valid():
        return form.answers(), {}
    return {}, {name.replace("form_", "form.", 1): list(errors) for name, errors in form.errors.items()}


def _subject(draft: Draft) -> dict | None:
    subject = draft.content().get("subject") or {}
    if not subject.get("on_behalf"):
        return None
    return {"full_name": subject.get("full_name", ""), "id_number": subject.get("id_number", ""),
            "date_of_birth": None, "phone": "", "email": "", "address": ""} | (
        {"date_of_birth": _date(subject.get("date_of_birth"))} if subject.get("date_of_birth") else {})


def _date(text):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def submit(draft: Draft, *, user, idempotency_key: str, result_delivery: str | None = None,
           declared: bool = False) -> Dossier:
    """Nộp hồ sơ: the draft becomes a dossier (code, acknowledgement) once, whatever the number of clicks;
    ``result_delivery``: how the applicant chose to receive the result (the review page asks); ``declared``: the
    applicant affirmed that their answers are true, which a declaration made from the answers needs
    (``ProcedureVersion.declaration_from_answers``)."""
    if draft.dossier_id:
        return draft.dossier
    if idempotency_key != draft.idempotency_key:
        raise ApplyError({"__all__": [_("This page is out of date: open your draft again and submit it from there.")]})
    version = draft.procedure_version
    if not may_apply_online(version):
        raise ApplyError({"procedure": [NO_LONGER_ONLINE]})
    form_data, errors = _form_data(draft)
    from egov.portal.apply_forms import subject_errors  # the subject step's checks again (ID number vs birth date)

    errors.update(subject_errors(draft.content().get("subject") or {}))
    if draft.agency_id is None:
        errors["agency"] = [_("Choose where to apply.")]
    draft_files = _files_of(draft)
    if not declared and version.declaration_from_answers({f.component_code for f in draft_files}) is not None:
        errors["declared"] = [DECLARATION_NEEDED]
    if errors:
        _move_if_superseded(draft)  # the answers are checked against the version in force, not a replaced one
        raise ApplyError(errors)
    files = []
    for draft_file in draft_files:
        draft_file.file.open("rb")
        files.append((draft_file.component_code, draft_file.file))
    reuse_uids = draft.content().get("reuse", {})
    documents = {str(d.uid): d for d in StoredDocument.objects.filter(uid__in=list(reuse_uids.values()))
                 .select_related("attachment")} if reuse_uids else {}
    reused = {code: documents[uid] for code, uid in reuse_uids.items()
              if uid in documents and code not in {f for f, _file in files}}

    def link_draft(dossier):
        # In the submission's transaction: the draft points at its dossier, and its uploads (copied into the
        # dossier's storage) are no longer the draft's; their stored copies are deleted once this commits.
        draft.dossier = dossier
        update(draft, ("dossier",))
        if draft_files:
            delete(DraftFile, [f.pk for f in draft_files])
            names = [f.file.name for f in draft_files]
            transaction.on_commit(lambda: _delete_stored(names, folder=f"drafts/{draft.uid}"))

    try:
        dossier = dossier_services.submit_online(
            applicant_user=user, procedure_version=version, agency=draft.agency, form_data=form_data,
            files=files, subject=_subject(draft), idempotency_key=idempotency_key, reused=reused, also=link_draft,
            result_delivery=result_delivery, declared=declared)
    except dossier_services.InvalidInput:
        # Refused: perhaps because a newer version of the procedure came into force since the draft was started
        # (checked only now, so that a submission that goes through pays no look-up for it).
        for _code, stored_file in files:
            stored_file.close()
        _move_if_superseded(draft)
        raise
    except IntegrityError:
        # Two clicks at once: the other request made the dossier under the same key.
        dossier = Dossier.objects.filter(idempotency_key=idempotency_key, applicant=user).first()
        if dossier is None:
            raise
        Draft.objects.filter(pk=draft.pk).update(dossier=dossier)
    finally:
        for _code, stored_file in files:
            stored_file.close()
    draft.dossier = dossier
    return dossier


DECLARATION_NEEDED = gettext_lazy(
    "Tick the box to declare that your answers are true: they stand for the signed declaration form.")


# --- A new version of the procedure ----------------------------------------------------------------------------------

NO_LONGER_ONLINE = gettext_lazy("This procedure can no longer be applied for online: take your application to the "
                                "agency's desk or send it by post.")


class DraftMoved(ApplyError):
    """A newer version of the procedure came into force after the draft was started: the draft now follows it.
    ``step``: where the applicant goes on (the first step whose answers the new version does not accept, or the
    review)."""

    def __init__(self, message, *, step: str):
        super().__init__({"procedure": [message]})
        self.step = step


def _move_if_superseded(draft: Draft) -> None:
    """Nothing is filed under a replaced version: when a newer version of the draft's procedure is in force today,
    the draft moves to it (``move_draft``) and ``DraftMoved`` says where to go on; when the version in force is no
    longer offered online, the submission is refused. Returns when the draft's version is still the one in force."""
    version = draft.procedure_version
    if not dossier_services.superseded(version, on=timezone.localdate()):
        return
    current = current_version(version.procedure.code)
    if current is None or current.pk == version.pk:
        return
    if not may_apply_online(current):
        raise ApplyError({"procedure": [NO_LONGER_ONLINE]})
    step = move_draft(draft, current)
    date = current.effective_from.strftime("%d/%m/%Y")
    if step == "review":
        message = _("The procedure changed on %(date)s. Your application now follows the new rules, with your "
                    "answers and documents that still apply: check it and submit it again.") % {"date": date}
    else:
        message = _("The procedure changed on %(date)s. Your application now follows the new rules, with your "
                    "answers and documents that still apply: complete what the new version asks for, then submit "
                    "it.") % {"date": date}
    raise DraftMoved(message, step=step)


def move_draft(draft: Draft, version: ProcedureVersion) -> str:
    """Move ``draft`` to ``version`` (a newer version of its procedure), keeping what still fits: the answers to
    e-form fields it still has, the uploads and stored-document choices of components it still has (a choice only
    if the document still stands in for it), who the application is for where it may still be on someone's behalf,
    and the agency if it still implements the procedure (the only one if there is just one). Uploads of components
    it no longer has are deleted. Returns the step to go on with, also kept in the draft."""
    content = draft.content()
    names = set(field_order(version))
    components = {c["code"]: c for c in version.components or []}
    raw = {name: value for name, value in (content.get("raw") or {}).items() if name in names}
    reuse_uids = {code: uid for code, uid in (content.get("reuse") or {}).items() if code in components}
    documents = {str(d.uid): d for d in StoredDocument.objects.filter(owner=draft.owner,
                                                                      uid__in=list(reuse_uids.values()))}
    reuse = {code: uid for code, uid in reuse_uids.items()
             if uid in documents and dossier_services.stored_document_fits(
                 documents[uid], components[code], procedure_code=version.procedure.code)}
    subject = (content.get("subject") or {}) if on_behalf_allowed(version) else {}
    agencies = list(version.agencies.all())
    agency = (draft.agency if draft.agency_id in {a.pk for a in agencies}
              else agencies[0] if len(agencies) == 1 else None)
    files = _files_of(draft)
    dropped = [f for f in files if f.component_code not in components]
    draft.procedure_version = version
    draft.agency = agency
    draft.seal({**content, "raw": raw, "reuse": reuse, "subject": subject})
    # Where to go on: the first step, in the new version's order, with something to fix.
    _answers, errors = _form_data(draft)
    if agency is None:
        errors["agency"] = [""]
    have = {f.component_code for f in files if f not in dropped} | set(reuse)
    errors.update(missing_documents(list(components.values()), have))
    order = [step.id for step in plan(version)]
    draft.step = min((step_of_field(version, name) for name in errors), key=order.index, default="review")
    with transaction.atomic():
        delete(DraftFile, [f.pk for f in dropped])
        update(draft, ("procedure_version", "agency", "sealed", "key_id", "step", "updated_at"))
    _delete_stored([f.file.name for f in dropped])
    return draft.step


def _delete_stored(names: list[str], *, folder: str = "") -> None:
    """Delete stored files; ``folder``, when given, is a submitted draft's own folder, removed too once empty (a
    submitted draft takes no more uploads, so nothing can be writing into it; left, every draft ever submitted would
    leave an empty folder behind)."""
    import os

    from django.core.files.storage import default_storage

    dossier_services.delete_files(names)
    if folder:
        try:
            os.rmdir(default_storage.path(folder))
        except (NotImplementedError, OSError):
            pass  # a storage without local folders, or the folder still holds something: left as it is


# --- Retention ---------------------------------------------------------------------------------------------------------

def purge_stale_drafts(*, older_than_days: int, now=None, batch: int = 500) -> tuple[int, int]:
    """Delete the drafts nobody has touched for ``older_than_days`` days, with their files and folders: an abandoned
    application's personal data is not kept for ever, and a submitted one's is in its dossier. Returns (drafts,
    files) deleted; one ledger event says how many (no personal data), in the platform's partition."""
    import datetime as dt

    from egov.kernel import ledger

    if older_than_days <= 0:
        return 0, 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=older_than_days)
    drafts = files = 0
    while True:
        with transaction.atomic():
            # Locked and checked again in the transaction: a draft saved a moment ago is not stale any more.
            chunk = list(Draft.objects.select_for_update().filter(updated_at__lt=cutoff).order_by("updated_at", "id")
                         .values_list("id", "uid")[:batch])
            if not chunk:
                break
            ids = [pk for pk, _uid in chunk]
            draft_files = list(DraftFile.objects.filter(draft_id__in=ids).values_list("id", "file"))
            names = [name for _pk, name in draft_files]
            delete(DraftFile, [pk for pk, _name in draft_files])
            delete(Draft, ids)
        # After the commit: a failure above leaves the rows and their files together.
        _delete_stored(names)
        for _pk, uid in chunk:
            _delete_stored([], folder=f"drafts/{uid}")
        drafts, files = drafts + len(ids), files + len(names)
    if drafts:
        ledger.append("portal.drafts_purged", partition="platform", actor="retention",
                      payload={"drafts": drafts, "files": files, "older_than_days": older_than_days})
    return drafts, files
