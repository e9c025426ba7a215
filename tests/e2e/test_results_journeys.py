# ruff: noqa: F811  (the ``office`` fixture is imported from the back-office journeys)
"""Verifying a signed result in Chromium (Vietnamese browser), with axe on every page visited: by its code, by
uploading the PDF as received, and a tampered copy rejected."""
from tests.e2e.test_backoffice_journeys import office, submit  # noqa: F401


def test_anyone_verifies_a_result_by_code_and_by_file_and_a_tampered_copy_is_rejected(page, visit, check_page,
                                                                                      office):
    from egov.dossiers import result_rules, services

    Role = office["Role"]
    desk = office["make"]("desk", Role.DESK_OFFICER)
    specialist, head = office["make"]("specialist", Role.SPECIALIST), office["make"]("head", Role.HEAD_OF_UNIT)
    leader = office["make"]("leader", Role.AGENCY_LEADER)
    dossier = services.intake_at_desk(officer=desk, procedure_version=office["version"], channel=1,
                                      applicant={"full_name": "Đỗ Văn Hùng"}, subject=None,
                                      form_data={"purpose": "xin việc"}, files=[])
    services.transfer(dossier.pk, officer=desk)
    services.save_draft_result(dossier.pk, officer=specialist)  # the draft: no code, nothing to verify yet
    for officer, task in ((specialist, "process"), (head, "review")):
        services.complete_step(dossier.pk, officer=officer, task_id=task)
    services.approve_and_sign(dossier.pk, officer=leader, task_id="approve")  # the decision signs it
    attachment = dossier.attachments.get(kind="result")
    code = result_rules.display(attachment.issued_result.code)
    with attachment.file.open("rb") as handle:
        content = handle.read()

    visit(page, "/verify/")
    page.fill("#id_code", code.lower())
    submit(page, "#verify-code button[type=submit]")
    check_page(page)
    assert page.locator("#verdict").get_attribute("data-valid") == "true"
    assert page.locator("#result-code").inner_text() == code

    page.set_input_files("#id_file", files=[{"name": "ket-qua.pdf", "mimeType": "application/pdf",
                                              "buffer": content}])
    submit(page, "#verify-file button[type=submit]")
    check_page(page)
    assert page.locator("#verdict").get_attribute("data-valid") == "true"

    changed = bytearray(content)
    changed[len(changed) // 3] ^= 0x01
    page.set_input_files("#id_file", files=[{"name": "ket-qua.pdf", "mimeType": "application/pdf",
                                              "buffer": bytes(changed)}])
    submit(page, "#verify-file button[type=submit]")
    check_page(page)
    assert page.locator("#verdict").get_attribute("data-valid") == "false"


def test_the_approver_approves_and_signs_and_a_signing_failure_leaves_a_retry(page, visit, check_page, office,
                                                                               monkeypatch):
    """The last step's approver signs the result in the same action as the approval; when the token fails, the
    approval stands, the page says so, and "Sign and issue the result" signs it once the token is back."""
    from egov.dossiers import services
    from egov.dossiers.models import Dossier, Status
    from egov.kernel import pki
    from tests.e2e.test_backoffice_journeys import do_action, sign_in_officer

    Role = office["Role"]
    desk = office["make"]("desk", Role.DESK_OFFICER)
    specialist, head = office["make"]("specialist", Role.SPECIALIST), office["make"]("head", Role.HEAD_OF_UNIT)
    leader = office["make"]("leader", Role.AGENCY_LEADER, "Dung", "Phạm Thị")
    dossier = services.intake_at_desk(officer=desk, procedure_version=office["version"], channel=1,
                                      applicant={"full_name": "Đỗ Văn Hùng"}, subject=None,
                                      form_data={"purpose": "xin việc"}, files=[])
    services.transfer(dossier.pk, officer=desk)
    services.save_draft_result(dossier.pk, officer=specialist)
    services.complete_step(dossier.pk, officer=specialist, task_id="process")
    services.complete_step(dossier.pk, officer=head, task_id="review")

    def unplugged(*args, **kwargs):
        raise pki.SigningUnavailable("the signing token is not plugged in")

    monkeypatch.setattr(pki, "signing_credential", unplugged)
    sign_in_officer(page, visit, check_page, leader)
    visit(page, f"/backoffice/dossiers/{dossier.code}/")
    page.locator("#action-complete-step summary").click()
    submit(page, "#action-complete-step button[type=submit]")
    check_page(page)
    assert page.locator(".message-error").count() == 1
    assert "the signing token is not plugged in" in page.locator(".message-error").inner_text()
    assert page.locator("#awaiting-signature").is_visible() and page.locator("#action-sign-result").is_visible()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROCESSING

    monkeypatch.undo()
    do_action(page, check_page, "sign-result")
    assert Dossier.objects.get(pk=dossier.pk).status == Status.RESULT_READY
