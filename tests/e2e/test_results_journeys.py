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
    for officer, task in ((specialist, "process"), (head, "review"), (leader, "approve")):
        services.complete_step(dossier.pk, officer=officer, task_id=task)
    attachment = services.attach_result(dossier.pk, officer=leader)
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
