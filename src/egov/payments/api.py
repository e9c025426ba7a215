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

from egov.payments import rules, services

router = Router(tags=["payments"])


@router.post("/callbacks/{provider}", summary="A payment provider's signed notification (callback)",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["transaction_id", "kind", "amount"]}}}}})
def callback(request, provider: str):
    answer = services.receive_callback(provider[:32], request.body,
                                       timestamp=request.headers.get(rules.TIMESTAMP_HEADER),
                                       signature=request.headers.get(rules.SIGNATURE_HEADER))
    if answer.status == 200:
        return JsonResponse({"status": "duplicate" if answer.duplicate else "accepted"})
    from egov.api import problem

    return problem(answer.status, answer.title, answer.detail)
