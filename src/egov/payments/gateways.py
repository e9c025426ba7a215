"""The platform's one interface to a payment provider (cổng thanh toán): create a payment and get the page to send the
payer to, ask for a refund, list a day's transactions for reconciliation.

``HttpGateway`` speaks the sandbox's protocol (``egov sandbox-pay``): JSON over HTTP, each request signed like the
callbacks (HMAC-SHA256 over ``{timestamp}.{body}`` with the gateway's secret). A real provider (VNPay, Napas, ...) is
another class with the same three methods, chosen by configuration.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

import requests
from django.conf import settings

from egov.payments import rules

TIMEOUT_SECONDS = 10


class GatewayError(Exception):
    """The provider could not be reached or refused the call; the caller keeps its state and retries later."""


@dataclass(frozen=True)
class CreatedPayment:
    provider_reference: str
    redirect_url: str


@dataclass(frozen=True)
class ProviderTransaction:
    """One transaction as the provider records it (reconciliation's "provider side")."""
    provider: str         # "gateway" or "bank" (whose callbacks announce it)
    transaction_id: str
    kind: str             # paid, failed, refunded
    amount: int
    reference: str        # our payment reference (gateway) or "" (bank: see content)
    content: str          # a bank transfer's content
    occurred_at: str
    body: str             # the callback body the provider sends for it (what the platform would have received)


class HttpGateway:
    def __init__(self, base_url: str | None = None, secret: str | None = None):
        self.base_url = (base_url or settings.PAYMENT_GATEWAY_URL).rstrip("/")
        self.secret = secret if secret is not None else settings.PAYMENT_SECRETS["gateway"]

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        body = json.dumps(payload or {}, separators=(",", ":")).encode() if method == "POST" else b""
        timestamp = str(int(time.time()))
        headers = {rules.TIMESTAMP_HEADER: timestamp, rules.SIGNATURE_HEADER: rules.sign(self.secret, timestamp, body),
                   "Content-Type": "application/json"}
        try:
            response = requests.request(method, self.base_url + path, data=body or None, headers=headers,
                                        timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise GatewayError(f"payment gateway unreachable: {exc.__class__.__name__}") from None
        if response.status_code >= 300:
            raise GatewayError(f"payment gateway answered {response.status_code}: {response.text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise GatewayError("payment gateway answered with something other than JSON") from None

    def create_payment(self, *, reference: str, amount: int, description: str, return_url: str) -> CreatedPayment:
        answer = self._call("POST", "/api/payments", {"reference": reference, "amount": amount,
                                                      "description": description, "return_url": return_url})
        return CreatedPayment(provider_reference=str(answer["payment_id"]), redirect_url=str(answer["pay_url"]))

    def refund(self, *, transaction_id: str, amount: int, reference: str) -> str:
        answer = self._call("POST", "/api/refunds", {"transaction_id": transaction_id, "amount": amount,
                                                     "reference": reference})
        return str(answer["refund_id"])

    def transactions(self, day: dt.date) -> list[ProviderTransaction]:
        answer = self._call("GET", f"/api/transactions?date={day.isoformat()}")
        return [ProviderTransaction(**{name: item[name] for name in ProviderTransaction.__dataclass_fields__})
                for item in answer["transactions"]]


def gateway() -> HttpGateway:
    return HttpGateway()
