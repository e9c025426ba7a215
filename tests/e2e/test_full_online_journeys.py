# ruff: noqa: F811  (the ``office`` fixture is imported from the back-office journeys)
"""A full-process online service (toàn trình, Decree 42/2022) as a new citizen lives it, in Chromium with axe on every
page: register, apply online for a procedure with a fee, pay through the sandbox payment gateway (its own process on
loopback, which calls the platform back with a signed notification), receive the signed result, verify it on the
public verification page, and see a copy changed by one byte rejected. The agency's side is played through its
services; the payments worker's pass is ``payments.work_once`` (the real ``egov payments work`` process, killed with
SIGKILL mid-payment, is tested in tests/payments/test_processes.py)."""
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.e2e.test_accounts_journeys import PASSWORD
from tests.e2e.test_backoffice_journeys import PDF, office, submit  # noqa: F401
from tests.http_client import free_port

FEE = 200_000


@pytest.fixture
def sandbox(live_server, tmp_path):
    """``egov sandbox-pay``: the sandbox gateway and bank, a process of its own, calling back the live server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "sandbox.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "egov.cli", "sandbox-pay", "--bind", f"127.0.0.1:{port}",
             "--callback", f"{live_server.url}/api/v1/payments/callbacks", "--state", str(tmp_path / "sandbox.db"),
             "--max-backoff", "0.5"],
            env=dict(os.environ, DJANGO_SETTINGS_MODULE="egov.settings", EGOV_LOG_LEVEL="WARNING"),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/bank", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the sandbox did not start:\n{log_path.read_text(errors='replace')}") from None
            time.sleep(0.2)
    yield url
    process.kill()
    process.wait(timeout=30)


@pytest.fixture
def allowed_origins(sandbox):
    return [sandbox]  # the payer goes to the gateway's own page and comes back


def wait_for(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_a_new_citizen_pays_online_receives_the_signed_result_and_verifies_it(open_page, visit, check_page, office,
                                                                               sandbox, live_server, settings, tmp_path):
    from egov.dossiers import services
    from egov.dossiers.models import Attachment, Dossier, Status
    from egov.payments import services as payments
    from egov.payments.models import PaymentRequest

    settings.PAYMENT_GATEWAY_URL = sandbox
    version = office["version"]
    version.fees = [{"type": "fee", "code": "LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": FEE}]
    version.save(update_fields=["fees"])
    Role = office["Role"]
    desk, specialist = office["make"]("desk", Role.DESK_OFFICER), office["make"]("specialist", Role.SPECIALIST)
    head, leader = office["make"]("head", Role.HEAD_OF_UNIT), office["make"]("leader", Role.AGENCY_LEADER)
    scan = tmp_path / "to-khai.pdf"
    scan.write_bytes(PDF)
    page = open_page(accept_downloads=True)

    # Register, find the procedure (full-process online), apply with the form and an attachment.
    visit(page, "/accounts/register/")
    page.fill("input[name=username]", "le.van.minh")
    page.fill("input[name=email]", "minh@example.org")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    submit(page, "main form button[type=submit]")
    visit(page, "/procedures/2.000488/")
    submit(page, "main a[href='/apply/2.000488/']")
    submit(page, "main form button[type=submit]")
    page.fill("input[name='form_purpose']", "Xin việc")
    submit(page, "button[name='continue']")
    page.set_input_files("input[name='file_to_khai']", str(scan))
    submit(page, "button[name='continue']")
    submit(page, "button[name='submit']")
    check_page(page)
    dossier = Dossier.objects.get(applicant__username="le.van.minh")
    assert dossier.code in page.locator("main").inner_text()

    # The agency receives it and asks for the fee (4 → 6): the clock pauses; the dossier's page offers to pay.
    services.receive(dossier.pk, officer=desk)
    services.transfer(dossier.pk, officer=desk)
    services.request_fees(dossier.pk, officer=specialist)
    visit(page, f"/dossiers/{dossier.code}/")
    submit(page, f"a[href='/payments/{dossier.code}/']")
    check_page(page)
    assert "200.000" in page.locator("main").inner_text()  # the fee, written the Vietnamese way

    # Pay through the gateway: its own page (another site), "Pay", and back to the platform, pending until the
    # gateway's signed callback arrives and the payments worker applies it (6 → 4, the clock resumes).
    submit(page, "form[action$='/gateway/'] button[type=submit]")
    assert page.url.startswith(sandbox)
    submit(page, "button[value='pay']")
    assert page.url.startswith(f"{live_server.url}/payments/{dossier.code}/")
    assert page.locator("main p.notice[role=status]").is_visible()  # waiting for the provider's confirmation
    check_page(page)
    def paid() -> bool:
        payments.work_once()  # one pass of the payments worker
        return PaymentRequest.objects.get(dossier=dossier).status == "paid"

    wait_for(paid, "the gateway's callback to be applied")
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROCESSING
    visit(page, f"/payments/{dossier.code}/")
    receipt = page.locator(f"a[href='/payments/{dossier.code}/receipt.pdf']")
    assert receipt.is_visible()
    with page.expect_download() as receipt_download:
        receipt.click()
    assert open(receipt_download.value.path(), "rb").read().startswith(b"%PDF")

    # The agency processes: the specialist drafts the result (the citizen does not see the draft), the leader's
    # approval of the last step signs it; chosen online at the review, it is delivered at once; the citizen
    # downloads it.
    draft = services.save_draft_result(dossier.pk, officer=specialist)
    visit(page, f"/dossiers/{dossier.code}/")
    assert page.locator(f"a[href='/dossiers/{dossier.code}/files/{draft.pk}/']").count() == 0
    for officer, task in ((specialist, "process"), (head, "review")):
        services.complete_step(dossier.pk, officer=officer, task_id=task)
    services.approve_and_sign(dossier.pk, officer=leader, task_id="approve")
    assert Dossier.objects.get(pk=dossier.pk).status == Status.DELIVERED
    visit(page, f"/dossiers/{dossier.code}/")
    result = Attachment.objects.get(dossier=dossier, kind=Attachment.Kind.RESULT)
    with page.expect_download() as result_download:
        page.click(f"a[href='/dossiers/{dossier.code}/files/{result.pk}/']")
    signed = open(result_download.value.path(), "rb").read()
    assert signed.startswith(b"%PDF") and b"/ByteRange" in signed  # a PAdES signature

    # Anyone verifies it on the public page: valid, signed by the agency; one byte changed: invalid.
    visit(page, "/verify/")
    page.set_input_files("#id_file", files=[{"name": "ket-qua.pdf", "mimeType": "application/pdf",
                                              "buffer": signed}])
    submit(page, "#verify-file button[type=submit]")
    check_page(page)
    assert page.locator("#verdict").get_attribute("data-valid") == "true"
    assert "Sở Tư pháp" in page.locator("#signer").inner_text()
    tampered = bytearray(signed)
    tampered[len(tampered) // 2] ^= 0x01
    page.set_input_files("#id_file", files=[{"name": "ket-qua.pdf", "mimeType": "application/pdf",
                                              "buffer": bytes(tampered)}])
    submit(page, "#verify-file button[type=submit]")
    check_page(page)
    assert page.locator("#verdict").get_attribute("data-valid") == "false"
