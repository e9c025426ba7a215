"""GovStack Registration BB on the one-stop system: the actions (đăng ký qua API chuẩn GovStack).

The Building Block's words map onto ours:

* a **service** is a procedure of the catalogue (``procedures.Procedure``); its id is a UUID derived from the national
  procedure code (``service_id``), and the code itself is accepted wherever an id is;
* an **eForm** is one procedure version's JSON Schema (with its UI hints and the documents to attach);
* an **application file** is a dossier (``fileId`` = the dossier's uid), submitted online through
  ``dossiers.services.submit_online``, so every rule of the portal holds (form schema, files, assurance level, code,
  ledger events);
* a **document** is a dossier attachment: uploaded first (``stage_document``), linked at submission by its URL;
* an **operator task** is an open processing step (``dossiers.Step``), completed through
  ``dossiers.services.complete_step`` by an officer, never by a system alone.

Who the applicant is when a client system submits: the citizen named by ``applicantId`` — their personal
identification number (12 digits) or the ``sub`` that egov's OpenID Connect gave the system for them. The citizen must
hold an egov account linked to their population record, and the account must meet the procedure's assurance level:
the dossier is theirs (they see and follow it in "My dossiers", receive its notices, rate it), exactly as if they had
applied on the portal; the client system is recorded as the one that filed it (``registration.application_submitted``
event). A person without an account is refused with a clear message (the desk files for them instead).
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from egov.kernel import ledger
from egov.kernel.access import Caller

RIGHT_READ = "registration.read"
RIGHT_SUBMIT = "registration.submit"
RIGHT_TASKS = "registration.tasks"

_NAMESPACE = uuid.UUID("6f1d9a52-3c4e-5b8a-9e0f-7a2b1c3d4e5f")
PIN_PATTERN = re.compile(r"^[0-9]{12}$")
COMPONENT_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
STAGED_SALT = "egov.govstack.registration.document"
STAGED_MAX_AGE = 24 * 3600  # an uploaded document must be linked to an application within a day
STAGED_DIR = "registration/staged"
MAX_DOCUMENTS = 20


# --- Errors: each maps to one HTTP status and a problem+json body ---------------------------------------------------

class RegistrationError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, message, *, field: str = "", errors: list[dict] | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.errors = errors or ([{"field": field, "message": str(message)}] if field else [])


class Invalid(RegistrationError):
    status, title = 422, "Invalid input"


class Forbidden(RegistrationError):
    status, title = 403, "Forbidden"


class NotFound(RegistrationError):
    status, title = 404, "Not found"


class Conflict(RegistrationError):
    status, title = 409, "Conflict"


def _invalid_from(exc, *, prefix: str = "") -> Invalid:
    """A ``dossiers.services.InvalidInput`` (field → messages) as one 422 naming every field."""
    errors = [{"field": f"{prefix}{name}", "message": str(message)}
              for name, messages in exc.message_dict.items() for message in messages]
    first = errors[0]["message"] if errors else _("The application is not valid.")
    return Invalid(first, field=errors[0]["field"] if errors else "", errors=errors)


# --- Identifiers -------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)  # pure, and called for every item of every list
def service_id(procedure_code: str) -> str:
    """The service's id: a UUID derived from the national procedure code (stable across installations)."""
    return str(uuid.uuid5(_NAMESPACE, f"procedure:{procedure_code}"))


@functools.lru_cache(maxsize=4096)
def eform_id(procedure_code: str, version: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"eform:{procedure_code}:{version}"))


def _as_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(str(text).strip()))
    except ValueError:
        return None


def procedure_for_service(value: str):
    """The procedure a service id names (its UUID, or the national code itself); 404 otherwise."""
    from egov.procedures.models import Procedure

    text = (value or "").strip()[:64]
    wanted = _as_uuid(text)
    if wanted is None:
        procedure = Procedure.objects.filter(code=text).first()
    else:
        code = next((c for c in Procedure.objects.values_list("code", flat=True).iterator() if service_id(c) == wanted),
                    None)
        procedure = Procedure.objects.filter(code=code).first() if code else None
    if procedure is None:
        raise NotFound(_("No service with this id."))
    return procedure


def version_for_eform(value: str):
    """The procedure version an eForm id names; 404 otherwise."""
    from egov.procedures.models import ProcedureVersion

    wanted = _as_uuid(value or "")
    if wanted is None:
        raise NotFound(_("No e-form with this id."))
    rows = ProcedureVersion.objects.values_list("pk", "procedure__code", "version").iterator()
    pk = next((pk for pk, code, number in rows if eform_id(code, number) == wanted), None)
    if pk is None:
        raise NotFound(_("No e-form with this id."))
    return ProcedureVersion.objects.select_related("procedure").get(pk=pk)


# --- Who may do what -----------------------------------------------------------------------------------------------

def require_client_right(caller: Caller, right: str) -> None:
    """A client system needs the right granted to it; officers and citizens signed in are checked by the dossier
    services themselves."""
    if caller.kind == "client" and not caller.may(right):
        raise Forbidden(_("This client system has no right to “%(right)s”: ask the platform administrator to grant "
                          "it.") % {"right": right})


def caller_owner(caller: Caller) -> str:
    """Who a staged document belongs to: only they can link it to an application."""
    return f"{caller.kind}:{getattr(caller.actor, 'pk', '')}"


def applicant_account(applicant_id: str, *, field: str = "body.applicantId"):
    """The citizen's account named by ``applicantId``: a personal identification number (12 digits, the account
    linked to that population record) or the OpenID Connect ``sub`` egov issued for the account. ``field``: where the
    caller sent it, named in the problem."""
    from egov.accounts.models import User
    from egov.exchange.models import SubjectIdentifier
    from egov.registries.queries import person_by_pin

    text = "".join(str(applicant_id or "").split())
    user = None
    if PIN_PATTERN.match(text):
        person = person_by_pin(text)
        if person is None:
            raise Invalid(_("No person in the population registry has this personal identification number."),
                          field=field)
        user = User.objects.filter(person_id=person.pk, is_active=True).first()
    elif _as_uuid(text):
        subject = SubjectIdentifier.objects.select_related("user").filter(sub=_as_uuid(text)).first()
        user = subject.user if subject is not None and subject.user.is_active else None
    else:
        raise Invalid(_("applicantId is the applicant's personal identification number (12 digits) or the subject "
                        "identifier (sub) egov issued for them."), field=field)
    if user is None or user.is_officer:
        raise Invalid(_("The applicant has no egov account linked to their population record: they apply on the "
                        "portal once they have one, or at a one-stop desk."), field=field)
    return user


def subject_of(user) -> str:
    """The applicant's id as this API shows it: the account's OpenID Connect ``sub`` (never the ID number)."""
    from egov.exchange.models import SubjectIdentifier

    subject, _created = SubjectIdentifier.objects.get_or_create(user=user)
    return str(subject.sub)


# --- Documents (upload before submission) --------------------------------------------------------------------------

@dataclass(frozen=True)
class StagedDocument:
    token: str
    path: str
    content_type: str
    size: int
    sha256: str
    component: str


def component_of(metadata: str | None) -> str:
    """The dossier component a document is for, from ``additionalMetadata``: the component code itself
    (``to_khai``) or JSON ``{"component": "to_khai"}``; none given: an additional document (``supplement``)."""
    text = (metadata or "").strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("component") or "").strip()
        except (ValueError, AttributeError):
            raise Invalid(_("additionalMetadata is a component code (e.g. to_khai) or JSON {\"component\": …}."),
                          field="query.additionalMetadata") from None
    if not text:
        return "supplement"
    if not COMPONENT_PATTERN.match(text):
        raise Invalid(_("additionalMetadata is a component code (e.g. to_khai) or JSON {\"component\": …}."),
                      field="query.additionalMetadata")
    return text


def stage_document(*, caller: Caller, upload, component: str) -> StagedDocument:
    """Tải lên giấy tờ: check the file as the portal does (size, sniffed type: PDF, JPEG, PNG), keep it under a random
    name and return a signed reference that only this caller can link to an application within a day."""
    from egov.dossiers import services as dossiers

    _require_submitter(caller)
    if upload is None:
        raise Invalid(_("Attach the file in the multipart field “file”."), field="body.file")
    try:
        ((code, content, mime),) = dossiers.check_files([(component, upload)], [{"code": component}], require_all=False)
    except dossiers.InvalidInput as exc:
        messages = [str(m) for ms in exc.message_dict.values() for m in ms]
        raise Invalid(messages[0], field="body.file",
                      errors=[{"field": "body.file", "message": m} for m in messages]) from None
    path = default_storage.save(f"{STAGED_DIR}/{uuid.uuid4().hex}", ContentFile(content))
    digest = hashlib.sha256(content).hexdigest()
    token = signing.dumps({"p": path, "o": caller_owner(caller), "m": mime, "s": len(content), "h": digest, "k": code},
                          salt=STAGED_SALT, compress=True)
    ledger.append("registration.document_uploaded", partition=caller.partition, actor=caller.actor,
                  payload={"type": mime, "size": len(content)})
    return StagedDocument(token=token, path=path, content_type=mime, size=len(content), sha256=digest, component=code)


def purge_expired_staged(*, now=None) -> int:
    """Delete the staged uploads that can no longer be linked to an application (their reference expired after
    ``STAGED_MAX_AGE``; a linked one is deleted when its application commits). Returns how many."""
    import datetime as dt

    from django.utils import timezone

    cutoff = (now or timezone.now()) - dt.timedelta(seconds=STAGED_MAX_AGE + 3600)  # an hour's margin for clocks
    try:
        _directories, names = default_storage.listdir(STAGED_DIR)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in names:
        path = f"{STAGED_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                deleted += 1
        except FileNotFoundError:
            continue  # linked and deleted meanwhile
    return deleted


def staged_document(*, caller: Caller, reference: str, field: str = "documentId") -> StagedDocument:
    """The staged document a reference (the token, or the URL ending in it) names, if it is this caller's."""
    token = str(reference or "").strip().rstrip("/").rsplit("/", 1)[-1]
    try:
        data = signing.loads(token, salt=STAGED_SALT, max_age=STAGED_MAX_AGE)
    except signing.SignatureExpired:
        raise Invalid(_("This document was uploaded more than a day ago: upload it again."), field=field) from None
    except signing.BadSignature:
        raise NotFound(_("No such uploaded document."), field=field) from None
    if data.get("o") != caller_owner(caller) or not default_storage.exists(data["p"]):
        raise NotFound(_("No such uploaded document."), field=field)
    return StagedDocument(token=token, path=data["p"], content_type=data["m"], size=data["s"], sha256=data["h"],
                          component=data["k"])


def _require_submitter(caller: Caller) -> None:
    if caller.kind == "client":
        require_client_right(caller, RIGHT_SUBMIT)
    elif caller.kind != "citizen":
        raise Forbidden(_("Applications are submitted by citizens or by client systems acting for them; the desk "
                          "files walk-in dossiers in the back office."))


# --- Submitting an application -------------------------------------------------------------------------------------

@dataclass
class Submission:
    applicant_id: str
    form_data: dict = field(default_factory=dict)
    eform_id: str = ""
    document_urls: list[str] = field(default_factory=list)
    agency_code: str = ""
    declared: bool = False  # the applicant affirmed their answers true (the e-form's declaration needs it)


def _receiving_agency(caller: Caller, version, agency_code: str):
    from egov.registries.models import Agency

    code = (agency_code or "").strip()
    if caller.kind == "client":
        # A client system is an information system of its agency: it files into that agency's one-stop desk.
        if code and code != caller.agency_code:
            raise Forbidden(_("A client system submits applications to its own agency (%(code)s).")
                            % {"code": caller.agency_code})
        code = caller.agency_code
    if code:
        agency = Agency.objects.filter(code=code).first()
        if agency is None or not version.agencies.filter(pk=agency.pk).exists():
            raise Invalid(_("The agency %(code)s does not implement this service.") % {"code": code},
                          field="body.agencyCode")
        return agency
    agencies = list(version.agencies.all()[:2])
    if len(agencies) != 1:
        raise Invalid(_("Several agencies implement this service: name the receiving one in agencyCode."),
                      field="body.agencyCode")
    return agencies[0]


@transaction.atomic
def submit_application(*, caller: Caller, service: str, submission: Submission, at=None):
    """Nộp hồ sơ qua API: (none) → 1 (or 2 for auto-receive procedures) with the dossier code, the uploaded documents
    attached, the applicant's account as the dossier's applicant."""
    from egov.accounts.services import AssuranceTooLow
    from egov.dossiers import services as dossiers
    from egov.kernel.calendar_rules import to_vn
    from egov.procedures.queries import version_in_force

    at = at or timezone.now()
    _require_submitter(caller)
    procedure = procedure_for_service(service)
    version = version_in_force(procedure, to_vn(at).date())
    if version is None:
        raise Conflict(_("This service has no version in force yet."))
    if submission.eform_id and submission.eform_id.strip() != eform_id(procedure.code, version.version):
        raise Conflict(_("This e-form is not the version in force: fetch the service's current e-form and fill it "
                         "in again."), field="body.formData.eFormId")
    if caller.kind == "client":
        applicant = applicant_account(submission.applicant_id)
    else:
        applicant = caller.actor
        if submission.applicant_id and applicant_account(submission.applicant_id).pk != applicant.pk:
            raise Forbidden(_("You apply for yourself: applicantId must be your own."))
    agency = _receiving_agency(caller, version, submission.agency_code)
    if len(submission.document_urls) > MAX_DOCUMENTS:
        raise Invalid(_("Link at most %(n)d documents.") % {"n": MAX_DOCUMENTS}, field="body.documentUrls")
    staged = [staged_document(caller=caller, reference=url, field=f"body.documentUrls.{i}")
              for i, url in enumerate(submission.document_urls)]
    files = []
    for document in staged:
        with default_storage.open(document.path, "rb") as handle:
            files.append((document.component, ContentFile(handle.read(), name=document.component)))
    if not isinstance(submission.form_data, dict):
        raise Invalid(_("formData.data is an object: the e-form's answers by field."), field="body.formData.data")
    if not submission.declared and version.declaration_from_answers({d.component for d in staged}) is not None:
        # Tờ khai điện tử: the answers stand for the signed declaration only when the applicant affirms them, as the
        # portal's review page asks; a system filing for them passes on that affirmation.
        raise Invalid(_("The answers stand for the declaration “%(name)s”: set declared to true once the applicant "
                        "has affirmed that they are true, or link the signed declaration.")
                      % {"name": version.eform_component.get("name", version.eform_component["code"])},
                      field="body.declared")
    try:
        dossier = dossiers.submit_online(applicant_user=applicant, procedure_version=version, agency=agency,
                                         form_data=submission.form_data, files=files, at=at,
                                         declared=submission.declared)
    except dossiers.InvalidInput as exc:
        raise _invalid_from(exc, prefix="body.") from None
    except AssuranceTooLow as exc:
        raise Forbidden(exc.reason) from None
    except dossiers.NotAllowed as exc:
        raise Forbidden(str(exc)) from None
    subject_of(applicant)
    ledger.append("registration.application_submitted", partition=agency.code, actor=caller.actor, subject=dossier,
                  payload={"code": dossier.code, "service": procedure.code, "documents": len(staged)})
    paths = [document.path for document in staged]
    transaction.on_commit(lambda: dossiers.delete_files(paths))
    return dossier


# --- Operator tasks ------------------------------------------------------------------------------------------------

OFFICER_TOKEN_HEADER = "Operator-Token"


def officer_for(caller: Caller, officer_token: str | None):
    """The officer who completes a task.

    A signed-in officer (browser session, second factor passed) is themselves. A client system must also present
    the officer: their egov access token (``Operator-Token``), obtained when the officer signed in to that system
    with egov (OpenID Connect). The token must be valid, a person's, issued to this very client system's sign-in
    application, and its officer must belong to the client's agency — so a system can never act as an officer who
    did not sign in to it, nor as one of another agency."""
    from oauth2_provider.models import get_access_token_model

    from egov.exchange.auth import Unauthenticated

    if caller.kind == "officer":
        return caller.actor
    if caller.kind != "client":
        raise Forbidden(_("Only officers complete processing tasks."))
    require_client_right(caller, RIGHT_TASKS)
    raw = (officer_token or "").strip()
    if raw[:7].lower() == "bearer ":
        raw = raw[7:].strip()
    if not raw:
        raise Forbidden(_("Completing a task needs the officer who does it: send their egov access token in the "
                          "Operator-Token header."))
    checksum = hashlib.sha256(raw.encode()).hexdigest()
    token = (get_access_token_model().objects.filter(token_checksum=checksum)
             .select_related("user__agency", "application__egov_link").first())
    if token is None or token.is_expired():
        raise Unauthenticated(_("The officer's access token is not valid or has expired: the officer signs in "
                                "again."))
    link = getattr(token.application, "egov_link", None) if token.application_id else None
    if token.user is None or link is None or link.client_id != caller.actor.pk:
        raise Forbidden(_("The officer's access token was not issued to this client system."))
    officer = token.user
    if not officer.is_active or not officer.is_officer:
        raise Forbidden(_("Only officers complete processing tasks."))
    if officer.agency is None or officer.agency.code != caller.agency_code:
        raise Forbidden(_("The officer belongs to another agency than this client system."))
    return officer


@transaction.atomic
def complete_task(*, caller: Caller, task_id: str, officer, data: dict, at=None):
    """Hoàn thành bước xử lý: ``data.decision`` approve (default) or return, ``data.note``; the dossier services check
    the officer's role, agency and assignment exactly as in the back office."""
    from egov.dossiers import services as dossiers
    from egov.dossiers.rules import TransitionRefused
    from egov.govstack.registration_queries import task_for

    step = task_for(caller, task_id)
    if step.completed_at is not None:
        raise Conflict(_("This task is completed already."))
    decision = str((data or {}).get("decision") or "approve").strip().lower()
    note = (data or {}).get("note") or ""
    if not isinstance(note, str):
        raise Invalid(_("data.note is text."), field="body.data.note")
    try:
        dossier = dossiers.complete_step(step.dossier_id, officer=officer, task_id=step.task_id, decision=decision,
                                         note=note, at=at)
    except dossiers.InvalidInput as exc:
        raise _invalid_from(exc, prefix="body.data.") from None
    except dossiers.NotAllowed as exc:
        raise Forbidden(str(exc)) from None
    except TransitionRefused as exc:
        raise Conflict(exc.reason) from None
    if caller.kind == "client":
        ledger.append("registration.task_completed", partition=dossier.receiving_agency.code, actor=caller.actor,
                      subject=dossier, payload={"code": dossier.code, "task": step.task_id, "officer": officer.pk})
    step.refresh_from_db()
    return step


def log_application_read(caller: Caller, dossier, *, purpose: str = "application") -> None:
    """A read of an application's personal content by anyone but its applicant: logged for the applicant to see."""
    from egov.dossiers import services as dossiers

    if caller.kind == "citizen" and dossier.applicant_id == getattr(caller.actor, "pk", None):
        return
    dossiers.log_read(dossier, reader=caller.actor, purpose=f"GovStack registration: {purpose}")
