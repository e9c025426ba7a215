"""Payment provider callbacks: ``POST /api/v1/payments/callbacks/{provider}``.

The caller proves who it is by signing: header ``X-Egov-Timestamp`` (Unix seconds) and ``X-Egov-Signature``
(``sha256=`` + hex HMAC-SHA256 of ``{timestamp}.{raw body}`` with the provider's secret). Body: JSON with
``transaction_id`` (unique per provider), ``kind`` (paid, failed, pending, refunded), ``amount`` (VND, whole), and
``reference`` (the payment reference, gateway) or ``content`` (the transfer's content carrying the dossier code, bank);
a refund's confirmation adds ``refund_reference``.

Answers: 200 accepted (or already received: a repeat changes nothing), 401 forged or stale signature (logged),
400 malformed, 404 unknown provider, 413 too large. Errors are problem+json.
"""
from django.http import JsonResponse
from ninja import Router

from egov.exchange.api_auth import problem_responses
from egov.payments import rules, services

router = Router(tags=["payments"])

CALLBACK_RESPONSES = {
    # A number, as ninja keys its own 200: the two entries are merged, not listed twice.
    200: {"description": "Accepted, or already received (a repeat changes nothing).",
          "content": {"application/json": {"schema": {
              "type": "object", "required": ["status"],
              "properties": {"status": {"type": "string", "enum": ["accepted", "duplicate"]}}}}}},
    **problem_responses(400, 401, 404, 413, texts={
        400: "Malformed notification: JSON with transaction_id, kind and a whole amount.",
        401: "Signature or timestamp missing, forged or stale (the refusal is logged).",
        404: "No payment provider has this name.",
        413: f"The notification is larger than {rules.MAX_BODY_BYTES} bytes."}),
}


@router.post("/callbacks/{provider}", summary="A payment provider's signed notification (callback)",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["transaction_id", "kind", "amount"]}}}},
                 "responses": CALLBACK_RESPONSES})
def callback(request, provider: str):
    answer = services.receive_callback(provider[:32], request.body,
                                       timestamp=request.headers.get(rules.TIMESTAMP_HEADER),
                                       signature=request.headers.get(rules.SIGNATURE_HEADER))
    if answer.status == 200:
        return JsonResponse({"status": "duplicate" if answer.duplicate else "accepted"})
    from egov.api import problem

    return problem(answer.status, answer.title, answer.detail)
