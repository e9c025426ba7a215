"""GovStack Registration BB API 0.1.1 (specs/govstack/registration/GovStack_Registration_BB_API.json, with the
statistics API of ``…_statistics.json``), mounted at ``/api/govstack/registration/``.

Services are procedures, eForms their versions' JSON Schemas, applications dossiers, documents attachments and tasks
open processing steps (``registration_services`` says how, and who the applicant is when a system submits). Callers
as for every egov API (``egov.exchange.api_auth``): a client system with its API key or OAuth client-credentials
token, or named by a trusted Information Mediator; or a person signed in. Client systems need the rights
``registration.read``, ``registration.submit`` and ``registration.tasks``; completing a task also needs the officer
(``Operator-Token``). What the spec leaves open follows egov's conventions: problem+json errors, 401 without
credentials, 403 without the right, 409 on a move the rules forbid, page sizes capped at 100.

Extensions beyond the spec, all optional: ``agencyCode`` in a submission (the receiving agency when a citizen
submits), ``declared`` in a submission (the applicant affirmed their answers true: needed where the e-form stands for
the signed declaration, marked ``eform`` among the eForm's documents), ``code`` and ``appointmentDate`` of an
application, ``uiSchema`` and ``documents`` of an eForm, ``documentId`` of an upload, and
``firstResult``/``maxResult`` on the service list.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any, Literal

from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Header, Query, Router, Schema
from ninja.files import UploadedFile

from egov.exchange.api_auth import MEDIATOR_PARAMETER, api_caller, problem_responses
from egov.kernel.api_fields import IsoDate, IsoDateTime, UUID_PATTERN, documented
from egov.govstack import registration_queries as queries
from egov.govstack import registration_services as services

router = Router(auth=api_caller, tags=["GovStack Registration"])

PAGE_TEXT = f"Capped at {queries.MAX_PAGE_SIZE}."
UPLOAD_FIELD = File(..., description="One PDF, JPEG or PNG file.")
# The handler takes one file (its own problem otherwise). Said on the File itself: ninja reads a list of files only
# from a plain list[UploadedFile] annotation, not from an Annotated one.
UPLOAD_FIELD.json_schema_extra.update(minItems=1, maxItems=1)

# Rules the services check (with their own problem), stated in the document.
# A personal identification number or the OpenID Connect sub (a UUID); whitespace inside is ignored.
APPLICANT_ID = documented(pattern=f"^([0-9]{{12}}|{UUID_PATTERN})$")
APPLICANT_FILTER = documented(pattern=f"^([0-9]{{12}}|{UUID_PATTERN})?$")  # empty: every applicant
# Sorting: empty is the default (id, descending); the order is asc or desc, in any case.
APPLICATION_SORT = documented(enum=["", *sorted(queries.APPLICATION_SORTS)])
TASK_SORT = documented(enum=["", *sorted(queries.TASK_SORTS)])
SORT_ORDER = documented(pattern="^([aA][sS][cC]|[dD][eE][sS][cC])?$")
FIRST_RESULT = documented(minimum=0, maximum=queries.MAX_FIRST_RESULT)
PAGE_SIZE = documented(minimum=1)
START_DATE = Query(None, description="From 2000-01-01 to 2099-12-31.")
END_DATE = Query(None, description="From 2000-01-01 to 2099-12-31.")


def _extra(*statuses: int) -> dict:
    return {"parameters": [MEDIATOR_PARAMETER], "responses": problem_responses(*statuses)}


def _problems(view):
    """A refusal of the registration services as its problem+json answer (the handlers stay one call each)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except services.RegistrationError as exc:
            from egov.api import problem  # late: egov.api imports this module while it loads

            extra = {"errors": exc.errors} if exc.errors else {}
            if exc.field:
                extra["field"] = exc.field
            return problem(exc.status, exc.title, str(exc.message), **extra)

    return wrapper


# --- Shapes (the spec's) -----------------------------------------------------------------------------------------

class CodeValue(Schema):
    code: str
    value: str


class ServiceOut(Schema):
    id: str = Field(..., description="The service id: a UUID derived from the national procedure code.")
    name: str
    version: str
    type: Literal["None", "Private", "Public"]
    isExecutable: bool = Field(..., description="True when it can be applied for online (full or partial).")
    isClosed: bool
    description: str
    serviceBody: list[CodeValue]


class EFormListItem(Schema):
    eFormId: str
    name: str
    description: str
    version: str
    latest: bool


class EFormOut(EFormListItem):
    schema_: dict[str, Any] = Field(..., alias="schema", description="The e-form as JSON Schema (draft 2020-12).")
    uiSchema: dict[str, Any] = Field(default_factory=dict, description="UI hints per field.")
    documents: list[dict[str, Any]] = Field(default_factory=list,
                                            description="Documents to attach: code (use it as additionalMetadata "
                                                        "when uploading), name, required.")


class FormData(Schema):
    data: dict[str, Any] = Field(default_factory=dict, description="The e-form's answers by field.")
    eFormId: str | None = Field(None, max_length=64)


class ApplicationSubmit(Schema):
    applicationName: str | None = Field(None, max_length=200)
    applicantId: Annotated[str, APPLICANT_ID] = Field(
        ..., max_length=64, description="The applicant: their personal identification number (12 digits) or the "
                                        "OpenID Connect sub egov issued for them. They must hold an egov account.")
    created: IsoDateTime | None = None
    formData: FormData | None = None
    documentUrls: list[str] = Field(default_factory=list, description="URLs returned by POST /documents.")
    agencyCode: str | None = Field(None, max_length=13, description="egov extension: the receiving agency; a client "
                                                                    "system always files to its own agency.")
    declared: bool = Field(False, description="egov extension: the applicant affirmed that their answers are true. "
                                              "Needed when the eForm marks a document `eform` (the answers stand for "
                                              "that signed declaration) and no file is linked for it.")


class StatusModel(Schema):
    code: Literal["PENDING", "APPROVED", "SENDBACK", "REJECTED"]
    title: str


class ApplicationData(Schema):
    applicantId: str | None = None
    applicationName: str | None = None
    created: dt.datetime | None = None
    formData: FormData | None = None
    documentUrls: list[str] = Field(default_factory=list)


class ApplicationOut(Schema):
    fileId: str
    registered: dt.datetime
    serviceId: str
    serviceName: str
    status: StatusModel
    ended: bool
    applicationData: ApplicationData
    code: str = Field(..., description="egov extension: the dossier code (mã hồ sơ).")
    appointmentDate: dt.datetime | None = Field(None, description="egov extension: the appointment date, once received.")


class ApplicationListItem(Schema):
    fileId: str
    mainTaskId: str
    taskTitle: str | None = None
    roleId: str | None = None
    roleName: str | None = None
    assigneeId: str | None = None
    operatorName: str | None = None
    status: StatusModel
    applicantId: str | None = None
    created: dt.datetime
    registered: dt.datetime
    description: str
    serviceName: str
    serviceId: str
    eformId: str
    code: str


class UploadResponse(Schema):
    code: int
    type: str
    message: str
    url: str
    documentId: str


class TaskOut(Schema):
    taskId: str
    mainTaskId: str
    name: str
    assigneeId: str | None = None
    roleId: str
    created: dt.datetime
    description: str
    serviceId: str
    serviceName: str
    fileId: str
    eFormId: str
    status: StatusModel
    dueDate: dt.datetime = Field(..., description="egov extension: the step's deadline.")


class TaskDetailOut(Schema):
    taskId: str
    taskName: str
    assigneeId: str | None = None
    roleId: str
    created: dt.datetime
    description: str
    fileId: str
    serviceId: str
    serviceName: str
    eFormId: str
    formVariables: dict[str, Any]
    status: StatusModel
    data: dict[str, Any]


class CompleteBody(Schema):
    data: dict[str, Any] = Field(default_factory=dict, description="decision: approve (default) or return; note.")


class CompletedTaskOut(Schema):
    taskId: str
    fileId: str
    serviceId: str
    status: StatusModel
    variables: dict[str, Any]


class StatisticsReferences(Schema):
    startDate: dt.date
    endDate: dt.date
    registrationName: str | None = None
    operator: str | None = None
    role: str | None = None
    timeframeDay: bool
    timeframeWeek: bool
    timeframeMonth: bool
    timeframeYear: bool


class RegistrationStatistics(Schema):
    processed: int
    approved: int
    sentBack: int
    rejected: int
    references: StatisticsReferences


# --- Mapping rows to shapes --------------------------------------------------------------------------------------

def _service_out(version) -> dict:
    procedure = version.procedure
    return {"id": services.service_id(procedure.code), "name": version.name, "version": str(version.version),
            "type": "Public", "isExecutable": version.online_level != "none", "isClosed": False,
            "description": f"{version.sector}: {version.result_type}",
            "serviceBody": [{"code": "procedureCode", "value": procedure.code},
                            {"code": "sector", "value": version.sector},
                            {"code": "level", "value": version.level},
                            {"code": "onlineLevel", "value": version.online_level},
                            {"code": "durationWorkingDays", "value": str(version.duration_days.normalize())},
                            {"code": "feeVnd", "value": str(version.total_fee)},
                            {"code": "minAssuranceLevel", "value": str(version.min_assurance_level)},
                            {"code": "effectiveFrom", "value": version.effective_from.isoformat()},
                            {"code": "eFormId", "value": services.eform_id(procedure.code, version.version)}]}


def _eform_item(version, latest: int) -> dict:
    return {"eFormId": services.eform_id(version.procedure.code, version.version), "name": version.name,
            "description": _("E-form of version %(version)d, in force from %(date)s.")
            % {"version": version.version, "date": version.effective_from.isoformat()},
            "version": str(version.version), "latest": version.version == latest}


def _application_out(request, dossier, *, with_content: bool) -> dict:
    version = dossier.procedure_version
    content = dossier.content() if with_content else {}
    subject = getattr(dossier.applicant, "oidc_subject", None) if dossier.applicant_id else None
    urls = [request.build_absolute_uri(f"{request.path_info.split('/govstack/registration/')[0]}"
                                       f"/govstack/registration/applications/{dossier.uid}/documents/{a.pk}")
            for a in queries.documents_of(request.caller, dossier).order_by("id")] if with_content else []
    return {"fileId": str(dossier.uid), "registered": dossier.submitted_at,
            "serviceId": services.service_id(version.procedure.code), "serviceName": version.name,
            "status": queries.status_of(dossier.status), "ended": dossier.status in queries.ENDED_STATUSES,
            "code": dossier.code, "appointmentDate": dossier.appointment_at,
            "applicationData": {"applicantId": str(subject.sub) if subject else None, "applicationName": version.name,
                                "created": dossier.submitted_at,
                                "formData": {"data": content.get("form") or {},
                                             "eFormId": services.eform_id(version.procedure.code, version.version)}
                                if with_content else None,
                                "documentUrls": urls}}


def _list_item(row: dict, step: dict | None) -> dict:
    """An ApplicationListItem from a row of ``queries.applications`` and its first open step (a row of
    ``queries.open_steps_of``), in the schema's field order."""
    procedure_code, file_id, sub = row["procedure_version__procedure__code"], str(row["uid"]), \
        row["applicant__oidc_subject__sub"]
    username = step["assignee__username"] if step else None
    operator = (f"{step['assignee__last_name']} {step['assignee__first_name']}".strip() or username) if username \
        else None  # User.get_full_name(), or the username
    return {"fileId": file_id, "mainTaskId": file_id, "taskTitle": step["name"] if step else None,
            "roleId": step["role"] if step else None, "roleName": step["role"] if step else None,
            "assigneeId": username, "operatorName": operator, "status": queries.status_of(row["status"]),
            "applicantId": str(sub) if sub else None, "created": row["submitted_at"],
            "registered": row["submitted_at"], "description": row["code"],
            "serviceName": row["procedure_version__name"], "serviceId": services.service_id(procedure_code),
            "eformId": services.eform_id(procedure_code, row["procedure_version__version"]), "code": row["code"]}


def _task_base(step) -> dict:
    dossier = step.dossier
    version = dossier.procedure_version
    return {"taskId": str(step.pk), "assigneeId": step.assignee.username if step.assignee_id else None,
            "roleId": step.role, "created": step.started_at, "description": f"{dossier.code}: {step.name}",
            "fileId": str(dossier.uid), "serviceId": services.service_id(version.procedure.code),
            "serviceName": version.name, "eFormId": services.eform_id(version.procedure.code, version.version),
            "status": queries.status_of(dossier.status)}


# --- Services and eForms -----------------------------------------------------------------------------------------

@router.get("/services", response=list[ServiceOut], operation_id="getServiceList",
            summary="returns a list of services (Services available to use)", openapi_extra=_extra(401, 422))
@_problems
def service_list(request, name: str = Query("", max_length=200, description="Words of the name or the code; "
                                                                             "diacritics are ignored."),
                 firstResult: int = Query(0, ge=0, le=queries.MAX_FIRST_RESULT),
                 maxResult: int = Query(queries.MAX_PAGE_SIZE, ge=1, description=PAGE_TEXT)):
    """Thủ tục hành chính đang có hiệu lực: every procedure with a version in force, by code."""
    first, size = queries.page_bounds(firstResult, maxResult)
    return [_service_out(v) for v in queries.services(name=name, first=first, size=size)]


@router.get("/services/{serviceId}", response=ServiceOut, operation_id="getService",
            summary="returns detailed information about a service", openapi_extra=_extra(401, 404))
@_problems
def service_detail(request, serviceId: str):
    """One service: its version in force (404 when it has none yet)."""
    procedure, version = queries.service(serviceId)
    if version is None:
        raise services.NotFound(_("This service has no version in force yet."))
    return _service_out(version)


@router.get("/services/{serviceId}/eForms", response=list[EFormListItem], operation_id="getServiceSchemaByServiceKey",
            summary="Retrieve all available e-forms", openapi_extra=_extra(401, 404))
@_problems
def service_eforms(request, serviceId: str):
    """Every version's e-form, newest first; ``latest`` marks the newest."""
    _procedure, versions, latest = queries.eforms(serviceId)
    return [_eform_item(v, latest) for v in versions]


@router.get("/eForms/{eFormId}", response=EFormOut, by_alias=True, operation_id="getEForm",
            summary="Retrieve a specific e-form by ID", openapi_extra=_extra(401, 404))
@_problems
def eform(request, eFormId: str):
    """The e-form's JSON Schema, its UI hints and the documents to attach."""
    version = services.version_for_eform(eFormId)
    latest = version.procedure.versions.order_by("-version").values_list("version", flat=True).first()
    return {**_eform_item(version, latest), "schema": version.form_schema, "uiSchema": version.ui_schema or {},
            "documents": [{"code": c["code"], "name": c.get("name", c["code"]), "required": c.get("required", True),
                           **({"eform": True} if c.get("eform") else {})}
                          for c in version.components]}


# --- Applications and documents ----------------------------------------------------------------------------------

@router.post("/services/{serviceId}/applications", response=ApplicationOut, operation_id="submitApplication",
             summary="Submit an application file as an applicant", openapi_extra=_extra(401, 403, 404, 409, 422))
@_problems
def submit(request, serviceId: str, body: ApplicationSubmit):
    """Nộp hồ sơ trực tuyến: the dossier is created with its code (status PENDING); the applicant is the citizen
    named by ``applicantId``, who must hold an egov account at the procedure's assurance level."""
    form = body.formData or FormData()
    submission = services.Submission(applicant_id=body.applicantId, form_data=form.data, eform_id=form.eFormId or "",
                                     document_urls=body.documentUrls, agency_code=body.agencyCode or "",
                                     declared=body.declared)
    dossier = services.submit_application(caller=request.caller, service=serviceId, submission=submission)
    return _application_out(request, dossier, with_content=True)


@router.post("/documents", response=UploadResponse, operation_id="uploadFile", summary="Upload a required document",
             openapi_extra=_extra(400, 401, 403, 422))
@_problems
def upload(request, file: list[UploadedFile] = UPLOAD_FIELD,
           additionalMetadata: str | None = Query(None, max_length=200,
                                                  description="The dossier component the document is for: its code "
                                                              "(see the eForm's documents) or JSON {\"component\": …}.")):
    """Upload a document (PDF, JPEG or PNG, at most the configured size) to link to an application within a day."""
    if len(file) != 1:
        raise services.Invalid(_("Upload one file at a time."), field="body.file")
    staged = services.stage_document(caller=request.caller, upload=file[0],
                                     component=services.component_of(additionalMetadata))
    url = request.build_absolute_uri(f"{request.path_info.rstrip('/')}/{staged.token}")
    return {"code": 200, "type": staged.content_type, "message": _("File uploaded."), "url": url,
            "documentId": staged.token}


@router.get("/documents/{documentId}", response={200: None}, operation_id="downloadUploadedFile",
            summary="Download an uploaded document (not yet linked)", openapi_extra=_extra(401, 404))
@_problems
def download_staged(request, documentId: str):
    """An uploaded document, for the caller who uploaded it, until it is linked to an application."""
    from django.core.files.storage import default_storage

    staged = services.staged_document(caller=request.caller, reference=documentId)
    return FileResponse(default_storage.open(staged.path, "rb"), content_type=staged.content_type)


@router.get("/applications", response=list[ApplicationListItem], operation_id="getApplicantFileList",
            summary="Retrieve all application files", openapi_extra=_extra(401, 403, 404, 422))
@_problems
def application_list(request, serviceId: str | None = Query(None, max_length=64),
                     applicantId: Annotated[str | None, APPLICANT_FILTER] = Query(None, max_length=64),
                     firstResult: Annotated[int, FIRST_RESULT] = Query(0, description="Index of the first result, "
                                                                                      "from 0."),
                     maxResult: Annotated[int, PAGE_SIZE] = Query(queries.DEFAULT_PAGE_SIZE, description=PAGE_TEXT),
                     sortBy: Annotated[str | None, APPLICATION_SORT] = Query(None, max_length=40,
                                                                             description="created, registered, "
                                                                                         "dueDate or id."),
                     sortOrder: Annotated[str | None, SORT_ORDER] = Query(None, max_length=4,
                                                                          description="asc or desc (default); "
                                                                                      "with sortBy.")):
    """The applications the caller may see: a client system or an officer those of its agency, a citizen their
    own."""
    first, size = queries.page_bounds(firstResult, maxResult)
    rows = queries.applications(request.caller, service_id=serviceId, applicant_id=applicantId, first=first, size=size,
                                sort_by=sortBy, sort_order=sortOrder)
    steps = queries.open_steps_of([row["id"] for row in rows])
    # Rendered as built (the JSON encoder and content type Ninja would use): validating every item against
    # ApplicationListItem again cost as much as reading them. The items are made in _list_item with exactly the
    # schema's fields, which the OpenAPI document still describes; tests compare them to the schema.
    from egov.api import api  # late: egov.api imports this module while it loads

    return api.create_response(request, [_list_item(row, steps.get(row["id"])) for row in rows], status=200)


@router.get("/applications/{fileId}", response=ApplicationOut, operation_id="getApplicationFileById",
            summary="Get application file by ID", openapi_extra=_extra(401, 403, 404))
@_problems
def application_detail(request, fileId: str):
    """One application with its form data and documents; a read by anyone but the applicant is logged (the
    applicant sees who read it)."""
    dossier = queries.application(request.caller, fileId)
    services.log_application_read(request.caller, dossier)
    return _application_out(request, dossier, with_content=True)


@router.get("/applications/{fileId}/documents/{documentId}", response={200: None}, operation_id="downloadDocument",
            summary="Download a document of an application", openapi_extra=_extra(401, 403, 404))
@_problems
def application_document(request, fileId: str, documentId: str):
    """A document of the application, by the id at the end of its URL in ``documentUrls`` (404 for any other)."""
    dossier, found = queries.attachment(request.caller, fileId, documentId)
    services.log_application_read(request.caller, dossier, purpose="document")
    return FileResponse(found.file.open("rb"), content_type=found.content_type, as_attachment=True,
                        filename=found.name)


@router.put("/applications/{fileId}", response=ApplicationOut, operation_id="updateApplicationFileForm",
            summary="Update service application file with operator's form data",
            openapi_extra=_extra(401, 403, 404, 409, 422))
@_problems
def application_update(request, fileId: str, body: ApplicationSubmit):
    """Not served: a submitted dossier keeps the answers it was filed with (Decree 118/2025); an operator asks for a
    supplement, and the applicant supplies, instead. Answers 409 for an application the caller may see."""
    queries.application(request.caller, fileId)
    raise services.Conflict(_("A submitted application is not edited: the agency requests a supplement and the "
                              "applicant supplies it."))


# --- Tasks -------------------------------------------------------------------------------------------------------

@router.get("/tasks", response=list[TaskOut], operation_id="getTasks", summary="Retrieve all tasks",
            openapi_extra=_extra(401, 403, 422))
@_problems
def task_list(request, mainTaskId: str | None = Query(None, max_length=64), fileId: str | None = Query(None, max_length=64),
              assigneeId: str | None = Query(None, max_length=150, description="An officer's username."),
              firstResult: Annotated[int, FIRST_RESULT] = Query(0),
              maxResult: Annotated[int, PAGE_SIZE] = Query(queries.DEFAULT_PAGE_SIZE, description=PAGE_TEXT),
              sortBy: Annotated[str | None, TASK_SORT] = Query(None, max_length=40,
                                                               description="created, dueDate, id or name."),
              sortOrder: Annotated[str | None, SORT_ORDER] = Query(None, max_length=4,
                                                                   description="asc or desc (default); with sortBy.")):
    """Open processing steps of the caller's agency."""
    first, size = queries.page_bounds(firstResult, maxResult)
    rows = queries.tasks(request.caller, main_task_id=mainTaskId, file_id=fileId, assignee_id=assigneeId, first=first,
                         size=size, sort_by=sortBy, sort_order=sortOrder)
    return [{**_task_base(step), "mainTaskId": str(step.dossier.uid), "name": step.name, "dueDate": step.due_at}
            for step in rows]


@router.get("/tasks/{taskId}", response=TaskDetailOut, operation_id="getTaskById", summary="Get task by id",
            openapi_extra=_extra(401, 403, 404))
@_problems
def task_detail(request, taskId: str):
    step = queries.task_for(request.caller, taskId)
    return {**_task_base(step), "taskName": step.name,
            "formVariables": {"decision": {"enum": ["approve", "return"], "default": "approve"},
                              "note": {"type": "string"}},
            "data": {"dueDate": step.due_at.isoformat(), "completed": step.completed_at is not None,
                     "verdict": step.verdict or None}}


@router.post("/tasks/{taskId}/complete", response=CompletedTaskOut, operation_id="completeTaskById",
             summary="Complete task by id", openapi_extra=_extra(401, 403, 404, 409, 422))
@_problems
def task_complete(request, taskId: str, body: CompleteBody,
                  operator_token: str | None = Header(None, alias=services.OFFICER_TOKEN_HEADER,
                                                      description="A client system: the officer's egov access token "
                                                                  "(from their OpenID Connect sign-in to this "
                                                                  "system). Not needed for an officer signed in.")):
    """Hoàn thành bước xử lý, by an officer of the agency in the step's role (approve, or return to an earlier
    step); the officer is the one signed in, or named by their access token when a client system calls."""
    officer = services.officer_for(request.caller, operator_token)
    step = services.complete_task(caller=request.caller, task_id=taskId, officer=officer, data=body.data)
    dossier = step.dossier
    dossier.refresh_from_db()
    version = dossier.procedure_version
    return {"taskId": str(step.pk), "fileId": str(dossier.uid), "serviceId": services.service_id(version.procedure.code),
            "status": queries.status_of(dossier.status),
            "variables": {"result": {"data": {"decision": step.outcome, "verdict": step.verdict,
                                              "nextTasks": list(dossier.steps.filter(completed_at__isnull=True)
                                                                .values_list("pk", flat=True))}}}}


# --- Statistics --------------------------------------------------------------------------------------------------

@router.get("/data/statistics", response=list[RegistrationStatistics], operation_id="Statistics", tags=["Statistics API"],
            summary="Service statistics", openapi_extra=_extra(401, 403, 422))
@_problems
def statistics(request, startDate: IsoDate | None = START_DATE, endDate: IsoDate | None = END_DATE,
               registrationName: str = Query("", max_length=200), operator: str = Query("", max_length=150),
               role: str = Query("", max_length=32),
               timeframe: Literal["day", "week", "month", "year"] | None = None):
    """Applications processed (approved, rejected) and sent back for a supplement, per period, over the dossiers
    the caller may see (default: this month so far)."""
    figures = queries.statistics(request.caller, start=startDate, end=endDate, registration_name=registrationName,
                                 operator=operator, role=role, timeframe=timeframe)
    return [{"processed": f.processed, "approved": f.approved, "sentBack": f.sent_back, "rejected": f.rejected,
             "references": {"startDate": f.start, "endDate": f.end, "registrationName": registrationName or None,
                            "operator": operator or None, "role": role or None,
                            "timeframeDay": timeframe == "day", "timeframeWeek": timeframe == "week",
                            "timeframeMonth": timeframe == "month", "timeframeYear": timeframe == "year"}}
            for f in figures]
