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


def test_every_answer_is_one_the_openapi_document_lists_in_its_shape(client):
    """200 (accepted, then duplicate), 400 malformed, 401 unsigned or forged, 404 unknown provider, 413 too large:
    each documented, the errors as problems."""
    from tests.api.contract import assert_documented, openapi

    document, template = openapi(client), "/api/v1/payments/callbacks/{provider}"
    answers = {
        "accepted": post_signed(client, payload()),
        "duplicate": post_signed(client, payload()),
        "malformed": post_signed(client, payload(amount="lots")),
        "unsigned": client.post(URL, payload(), content_type="application/json"),
        "unknown provider": client.post("/api/v1/payments/callbacks/nobody", payload(),
                                        content_type="application/json"),
        "too large": post_signed(client, b" " * (rules.MAX_BODY_BYTES + 1)),
    }
    assert {reason: answer.status_code for reason, answer in answers.items()} == {
        "accepted": 200, "duplicate": 200, "malformed": 400, "unsigned": 401, "unknown provider": 404,
        "too large": 413}
    for answer in answers.values():
        assert_documented(document, "post", template, answer)
    assert [answers[reason].json()["status"] for reason in ("accepted", "duplicate")] == ["accepted", "duplicate"]
