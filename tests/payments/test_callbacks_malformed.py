"""Correctly signed callbacks whose content cannot be stored (an amount beyond the column, JSON nested deeper than the
parser goes) are answered 400 "Malformed notification" over HTTP and logged like any malformed one: never a 500,
and nothing is kept for the worker."""
import json
import time

import pytest
from django.conf import settings

from egov.payments import rules
from egov.payments.models import PaymentNotification

pytestmark = pytest.mark.django_db

URL = "/api/v1/payments/callbacks/gateway"


def post_signed(client, body: bytes):
    """The raw body signed with the gateway's secret, as the provider sends it."""
    stamp = str(int(time.time()))
    return client.post(URL, body, content_type="application/json",
                       headers={rules.TIMESTAMP_HEADER: stamp,
                                rules.SIGNATURE_HEADER: rules.sign(settings.PAYMENT_SECRETS["gateway"], stamp, body)})


def payload(**change) -> bytes:
    return json.dumps({"transaction_id": "GW-1", "kind": "paid", "amount": 200000, "reference": "R1",
                       **change}).encode()


@pytest.mark.parametrize("body", [
    payload(amount=10**30),
    payload(amount=-(10**30)),
    payload(amount=2**63),
    payload(amount=-(2**63) - 1),
    b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"transaction_id": "GW-1", "kind": "paid", "amount": 1, "x":' + b"[" * 5000 + b"]" * 5000 + b"}",
], ids=["huge", "huge-negative", "just-beyond", "just-below", "deep", "deep-extra-field"])
def test_a_signed_notification_that_cannot_be_stored_is_400_and_logged(client, caplog, body):
    assert len(body) <= rules.MAX_BODY_BYTES  # within the size limit: refused for its content
    with caplog.at_level("WARNING", logger="egov.payments"):
        response = post_signed(client, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Malformed notification"
    assert [r.getMessage() for r in caplog.records if r.name == "egov.payments"] == [
        "payment callback from gateway: signed but malformed"]
    assert not PaymentNotification.objects.exists()


def test_the_largest_amount_the_column_holds_is_accepted(client):
    response = post_signed(client, payload(amount=2**63 - 1))
    assert response.status_code == 200, response.content
    assert PaymentNotification.objects.get(transaction_id="GW-1").amount == 2**63 - 1
