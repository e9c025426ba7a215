"""Real processes: the sandbox gateway and bank round trip, a worker killed with SIGKILL mid-payment, the platform
and the gateway each down when a callback is due, and the reconciliation that pulls what the platform missed.
Afterwards every dossier is credited exactly once."""
import datetime as dt
import json
import time
import urllib.request

from egov.dossiers.models import Dossier, Status
from egov.kernel.calendar_rules import VN_TZ
from egov.payments import services
from egov.payments.models import PaymentNotification, PaymentRequest, ReconciliationReport
from tests.http_client import Browser, free_port
from tests.payments.conftest import dossier_waiting_for_fees, post, signed, wait_for


def status_of(dossier):
    return Dossier.objects.get(pk=dossier.pk).status


def credited_once(dossier):
    assert Dossier.objects.get(pk=dossier.pk).transitions.filter(from_status=6, to_status=4).count() == 1
    assert PaymentNotification.objects.filter(request__dossier=dossier, outcome="credited").count() == 1
    assert PaymentRequest.objects.get(dossier=dossier).status == "paid"


def bank_transfer(sandbox_url, amount, content):
    body = json.dumps({"amount": amount, "content": content}).encode()
    request = urllib.request.Request(f"{sandbox_url}/api/bank/credit", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["transaction_id"]


def test_sandbox_round_trip_gateway_and_vietqr(processes, citizen, officers, version, agency, settings):
    gateway_paid = dossier_waiting_for_fees(citizen, officers, version, agency)
    bank_paid = dossier_waiting_for_fees(citizen, officers, version, agency)
    platform_port, sandbox_port = free_port(), free_port()
    platform = f"http://127.0.0.1:{platform_port}"
    sandbox = processes.sandbox(f"{platform}/api/v1/payments/callbacks", port=sandbox_port)
    processes.platform(port=platform_port, EGOV_PAYMENT_GATEWAY_URL=sandbox)
    processes.worker()
    settings.PAYMENT_GATEWAY_URL = sandbox

    # Gateway: the payment created at the provider, the payer clicks "Pay" on its page and is sent back.
    pay_url = services.start_gateway_payment(gateway_paid, user=citizen,
                                             return_url=f"{platform}/payments/{gateway_paid.code}/returned/")
    browser = Browser()
    page = browser.get(pay_url)
    assert "200,000 VND" in page and 'value="pay"' in page
    status, location = _click(browser, pay_url)
    assert status == 303 and location.startswith(f"{platform}/payments/{gateway_paid.code}/returned/")
    wait_for(lambda: status_of(gateway_paid) == Status.PROCESSING, what="the gateway's callback")
    # VietQR: a bank transfer whose content carries the dossier code (as the QR's purpose sets it).
    bank_transfer(sandbox, 200000, f"NOP PHI HS {bank_paid.code}")
    wait_for(lambda: status_of(bank_paid) == Status.PROCESSING, what="the bank's callback")
    credited_once(gateway_paid)
    credited_once(bank_paid)
    assert PaymentRequest.objects.get(dossier=bank_paid).method == "vietqr"


def _click(browser, url):
    """POST the pay page's button (the sandbox's page has no CSRF token: it is another site)."""
    import urllib.error
    import urllib.parse

    request = urllib.request.Request(url, data=urllib.parse.urlencode({"action": "pay"}).encode())
    try:
        with browser.opener.open(request, timeout=30) as response:
            return response.status, ""
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("Location", "")


def test_a_worker_killed_mid_payment_loses_nothing_and_credits_once(processes, citizen, officers, version, agency):
    dossier = dossier_waiting_for_fees(citizen, officers, version, agency)
    request = PaymentRequest.objects.get(dossier=dossier)
    url = processes.platform()
    body, headers = signed("gateway", {"transaction_id": "GW-K", "kind": "paid", "amount": 200000,
                                       "reference": request.reference})
    assert post(f"{url}/api/v1/payments/callbacks/gateway", body, headers) == (200, {"status": "accepted"})
    # The worker holds the crediting transaction open (test-only delay: it writes, then waits before committing)
    # when it is killed.
    worker = processes.worker(EGOV_PAYMENT_APPLY_DELAY="30")
    wait_for(lambda: "test delay: holding notification" in worker.log_path.read_text(errors="replace"),
             timeout=60, what="the worker to hold the payment")
    processes.kill(worker)
    assert status_of(dossier) == Status.FEES_DUE
    assert PaymentNotification.objects.get(transaction_id="GW-K").applied_at is None
    # The provider repeats the callback meanwhile: stored once, nothing more.
    assert post(f"{url}/api/v1/payments/callbacks/gateway", body, headers) == (200, {"status": "duplicate"})
    # A new worker finds the notification still queued (the killed one's transaction never committed).
    processes.worker()
    wait_for(lambda: status_of(dossier) == Status.PROCESSING, what="the restarted worker to credit")
    time.sleep(1)
    credited_once(dossier)


def test_the_platform_down_when_the_callback_is_due_gets_it_later(processes, citizen, officers, version, agency):
    dossier = dossier_waiting_for_fees(citizen, officers, version, agency)
    platform_port = free_port()
    sandbox = processes.sandbox(f"http://127.0.0.1:{platform_port}/api/v1/payments/callbacks", max_backoff=1)
    bank_transfer(sandbox, 200000, f"NOP PHI HS {dossier.code}")
    time.sleep(2)  # a few refused deliveries
    assert status_of(dossier) == Status.FEES_DUE
    processes.platform(port=platform_port)
    processes.worker()
    wait_for(lambda: status_of(dossier) == Status.PROCESSING, what="the retried callback")
    credited_once(dossier)


def test_the_gateway_down_before_calling_back_delivers_after_restart(processes, tmp_path, citizen, officers, version,
                                                                       agency):
    dossier = dossier_waiting_for_fees(citizen, officers, version, agency)
    platform = processes.platform()
    processes.worker()
    state = tmp_path / "gateway-state.sqlite3"
    dead_end = f"http://127.0.0.1:{free_port()}/api/v1/payments/callbacks"
    sandbox_port = free_port()
    sandbox = processes.sandbox(dead_end, port=sandbox_port, state=state, max_backoff=30)
    bank_transfer(sandbox, 200000, f"NOP PHI HS {dossier.code}")
    processes.kill(processes.started[-1])  # the gateway crashes with the callback undelivered
    assert status_of(dossier) == Status.FEES_DUE
    processes.sandbox(f"{platform}/api/v1/payments/callbacks", port=sandbox_port, state=state)
    wait_for(lambda: status_of(dossier) == Status.PROCESSING, timeout=60, what="the restarted gateway's callback")
    credited_once(dossier)


def test_reconciliation_pulls_what_was_missed_and_flags_every_mismatch(processes, citizen, officers, version, agency,
                                                                          settings):
    missed = dossier_waiting_for_fees(citizen, officers, version, agency)
    planted = dossier_waiting_for_fees(citizen, officers, version, agency)
    sandbox = processes.sandbox(f"http://127.0.0.1:{free_port()}/api/v1/payments/callbacks")  # callbacks never arrive
    settings.PAYMENT_GATEWAY_URL = sandbox
    lost = bank_transfer(sandbox, 200000, f"NOP PHI HS {missed.code}")
    short = bank_transfer(sandbox, 150000, f"NOP PHI HS {planted.code}")
    # Planted: a "payment" the platform holds that the provider never made.
    request = PaymentRequest.objects.get(dossier=planted)
    body, headers = signed("gateway", {"transaction_id": "GW-GHOST", "kind": "failed", "amount": 200000,
                                       "reference": request.reference})
    services.receive_callback("gateway", body, timestamp=headers["X-Egov-Timestamp"],
                              signature=headers["X-Egov-Signature"])
    services.work_once()
    day = dt.datetime.now(VN_TZ).date()
    report = services.reconcile(day)
    assert status_of(missed) == Status.PROCESSING  # pulled from the provider and applied
    credited_once(missed)
    assert status_of(planted) == Status.FEES_DUE  # 150,000 of 200,000: not credited
    kinds = {(m["kind"], m.get("transaction")) for m in report.mismatches}
    assert ("missing_on_platform", lost) in kinds
    assert ("missing_on_platform", short) in kinds and ("mismatch", short) in kinds
    assert ("missing_at_provider", "GW-GHOST") in kinds
    assert report.recovered == 2 and ReconciliationReport.objects.get(day=day).pk == report.pk
    # Run again: nothing recovered twice, still credited once.
    again = services.reconcile(day)
    assert again.recovered == 0
    credited_once(missed)
