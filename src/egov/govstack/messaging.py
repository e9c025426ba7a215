"""GovStack Messaging BB API 0.1.1 (specs/govstack/messaging/swagger.yaml), mounted at ``/api/govstack/messaging/``.

``POST /send/email/single`` and ``/send/email/batch`` queue emails in the notifications outbox and answer the spec's
``responseRequestAccepted`` with a ``requestUid``; ``GET /status/email`` counts the request's emails per status;
``POST /callback/email`` takes an email provider's delivery report. The client system's callback (the spec's
``callback.URI`` / ``callbackURI.URI``) is told the outcome once every email of its request is settled: a POST of
``callbackContent`` (``meta`` "status", ``content`` base64 JSON of the status counts) with the ``requestUid`` header,
sent by the delivery loop (``egov notify``) with retries.

Callers: client systems only, with the API key in the spec's ``apiKey`` header, in ``api_key`` as existing clients
send it (``egov serve`` keeps that one underscore header, docs/adr/0006-underscore-headers.md), or as for every egov
API (``Authorization``, or named by a trusted Information Mediator). Rights ``messaging.send`` and
``messaging.report`` (403 without). The spec's status for invalid input is 405 (a body that is not JSON too); its
body, like every egov error, is a problem+json naming the field. Extensions: ``notSent`` and ``errors`` (position and
reason of each refused recipient) in the batch answer; ``updated`` in the delivery report's answer.
"""
from __future__ import annotations

import functools
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema
from ninja.security.apikey import APIKeyHeader

from egov.exchange.api_auth import MEDIATOR_PARAMETER, problem_responses
from egov.kernel.api_fields import documented
from egov.exchange.auth import Unauthenticated, client_caller
from egov.govstack import messaging_services as services
from egov.kernel.access import Caller

API_KEY_HEADERS = ("HTTP_APIKEY", "HTTP_API_KEY")  # apiKey (the spec), api_key and api-key (clients in use)


class MessagingApiKey(APIKeyHeader):
    """The spec's ``apiKey`` header (``api_key`` too). Only client systems: a browser session is not a caller here."""

    param_name = "apiKey"
    openapi_description = ("The client system's API key (egk_…). Also accepted in the header api_key, or as "
                           "Authorization: Bearer egk_…; calls through a trusted Information Mediator need none.")

    def __call__(self, request) -> Caller | None:
        keys = {request.META.get(name, "").strip() for name in API_KEY_HEADERS} - {""}
        if len(keys) > 1:
            raise Unauthenticated(_("Two different API keys were sent (apiKey and api_key): send one."))
        caller = client_caller(request, api_key=next(iter(keys), None))
        if caller is not None:
            request.caller = caller
        return caller

    def authenticate(self, request, key: str | None) -> Caller | None:  # pragma: no cover - __call__ does the work
        return self(request)


router = Router(auth=MessagingApiKey(), tags=["GovStack Messaging"])


def _extra(*statuses: int, invalid: bool = True) -> dict:
    responses = problem_responses(*statuses)
    if invalid:
        responses.update({"405": {**problem_responses(422)["422"], "description": "Invalid input (the spec's "
                          "status): `field` and `errors` name what is wrong."}})
    return {"parameters": [MEDIATOR_PARAMETER], "responses": responses}


def _problems(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except services.MessagingError as exc:
            from egov.api import problem  # late: egov.api imports this module while it loads

            extra = {"field": exc.field} if exc.field else {}
            if exc.errors:
                extra["errors"] = exc.errors
            return problem(exc.status, exc.title, exc.message, **extra)

    return wrapper


# --- The spec's shapes -------------------------------------------------------------------------------------------

class CallbackSender(Schema):
    URI: str | None = Field(None, max_length=2000, examples=["https://example.com/callback/emails/requestUid"])


class SenderInfo(Schema):
    organisationName: str | None = Field(None, max_length=255, examples=["Example Medical Insitution"])
    organisationRegNr: str | None = Field(None, max_length=100, examples=["GOV1234567890"])
    onBehalfOfName: str | None = Field(None, max_length=255, examples=["Example Medical Insitution"])
    onBehalfOfRegNr: str | None = Field(None, max_length=100, examples=["GOV1234567890"])
    email: str | None = Field(None, max_length=254, description="Informative: emails leave from egov's address.",
                              examples=["sender@example.com"])
    replyTo: str | None = Field(None, max_length=254, examples=["reply-to@example.com"])
    name: str | None = Field(None, max_length=255, examples=["Example Doctor"])


class RecipientInfo(Schema):
    email: str | None = Field(None, max_length=254, examples=["customer@example.com"])
    emailCC: str | None = Field(None, max_length=2600, examples=["customer-cc@example.com"])
    emailBCC: str | None = Field(None, max_length=2600, examples=["customer-bcc@example.com"])
    name: str | None = Field(None, max_length=255, examples=["Example Customer"])


class BatchRecipientInfo(Schema):
    batchEmailAsBase64: str | None = Field(
        None, json_schema_extra={"format": "base64"},
        description='Base64 of a JSON list: [{"recipientInfo": {"email": …, "emailCC": …, "emailBCC": …, '
                    '"name": …}}, …]; at most EGOV_MESSAGING_BATCH_MAX (1000) recipients.')


class EmailContent(Schema):
    encoding: str | None = Field(None, max_length=20, examples=["UTF-8"])
    title: str | None = Field(None, max_length=255, examples=["Example Title Of An Email"])
    content: str | None = Field(None, max_length=100_000, examples=["Example Customer"])


class Email(Schema):
    callback: CallbackSender | None = None
    senderInfo: SenderInfo | None = None
    recipientInfo: RecipientInfo | None = None
    emailContent: EmailContent | None = None


class BatchEmail(Schema):
    callbackURI: CallbackSender | None = None
    senderInfo: SenderInfo | None = None
    recipientInfo: BatchRecipientInfo | None = None
    emailContent: EmailContent | None = None


class RecipientError(Schema):
    index: int = Field(..., description="Position of the recipient in the batch (from 0).")
    field: str
    message: str


class ResponseRequestAccepted(Schema):
    response: str = Field(..., examples=['Request successfully accepted. Use "requestUid" to track its status.'])
    requestUid: str = Field(..., examples=["8d6f1c2e-5b0a-4f7e-9d3c-2a1b0c9d8e7f"])
    notSent: int | None = Field(None, description="Extension (batch): recipients refused at once.")
    errors: list[RecipientError] | None = Field(None, description="Extension (batch): why each was refused.")


class RequestStatus(Schema):
    scheduled: int | None = Field(None, examples=[0])
    processing: int | None = Field(None, examples=[1004])
    deferred: int | None = Field(None, examples=[0])
    bounced: int | None = Field(None, examples=[257])
    notSent: int | None = Field(None, examples=[0])
    delivered: int | None = Field(None, examples=[9032])


class CallbackContent(Schema):
    meta: Annotated[str | None, documented(enum=list(services.REPORT_OUTCOMES))] = Field(
        None, max_length=100, examples=["bounced"], description="The outcome reported: delivered or bounced.")
    content: str | None = Field(None, max_length=1_000_000, json_schema_extra={"format": "base64"},
                                description='Base64 of {"references": ["<Message-ID>", …]}.')


class CallbackAccepted(Schema):
    response: str
    updated: int = Field(..., description="Extension: how many messages changed status.")


StatusName = Literal["scheduled", "processing", "deferred", "bounced", "notSent", "delivered"]
RequestUid = Annotated[str, documented(format="uuid")]  # what the send call returned
REQUEST_UID = Header(..., max_length=100, description="The requestUid the send call returned.")
STATUSES = Query(..., description="Select status values to fetch data for")
ACCEPTED = 'Request successfully accepted. Use "requestUid" to track its status.'


# --- Operations ----------------------------------------------------------------------------------------------------

@router.post("/send/email/single", response=ResponseRequestAccepted, operation_id="sendSingleEmail",
             summary="Send a single email", openapi_extra=_extra(401, 403))
@_problems
def send_single(request, body: Email):
    sent = services.send_single(request.auth, body.model_dump())
    return {"response": ACCEPTED, "requestUid": str(sent.uid)}


@router.post("/send/email/batch", response=ResponseRequestAccepted, operation_id="sendBatchEmail",
             summary="Send batch emails", openapi_extra=_extra(401, 403))
@_problems
def send_batch(request, body: BatchEmail):
    """Recipients come in base64; sender and content are the same for all. An invalid recipient is refused alone:
    `notSent` counts them and `errors` says which and why; the others are queued."""
    sent, rejected = services.send_batch(request.auth, body.model_dump())
    return {"response": ACCEPTED, "requestUid": str(sent.uid), "notSent": len(rejected), "errors": rejected}


@router.post("/callback/email", response=CallbackAccepted, operation_id="callbackEmail",
             summary="Delivery report of an email provider", openapi_extra=_extra(401, 403, 404))
@_problems
def callback_email(request, body: CallbackContent, requestUid: RequestUid = REQUEST_UID):  # noqa: N803
    """egov's side of the spec's callback: the provider that delivered a request's emails reports what became of
    them (`meta`: delivered or bounced; `content`: base64 of {"references": [Message-ID, …]}). Needs the right
    `messaging.report`. The client system's own callback is the other direction: egov POSTs to its URI."""
    updated = services.report(request.auth, requestUid, body.meta, body.content)
    return {"response": _("Report accepted."), "updated": updated}


@router.get("/status/email", response=RequestStatus, operation_id="getEmailStatus", exclude_none=True,
            summary="Get an overview of sent emails statuses", openapi_extra=_extra(401, 403, 404))
@_problems
def status_email(request, requestUid: RequestUid = REQUEST_UID, status: list[StatusName] = STATUSES):  # noqa: N803
    """Counts of the request's emails in the chosen statuses. Only the client system that sent the request may
    read it (another's requestUid is not found)."""
    return services.status(request.auth, requestUid, list(dict.fromkeys(status)))
