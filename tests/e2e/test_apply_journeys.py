# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""Applying online in Chromium (Vietnamese browser), with axe on every page: a citizen starts an application, makes
a mistake in the e-form (inline error, what was typed kept), attaches a file, checks and submits, and sees the
acknowledgement with the dossier code; "My drafts" and "My documents" (the data store) show the rest."""
from tests.e2e.test_accounts_journeys import sign_in
from tests.e2e.test_backoffice_journeys import PDF, office, submit  # noqa: F401  (fixture)


def test_a_citizen_applies_online_with_an_attachment_and_sees_the_acknowledgement(page, visit, check_page, office,
                                                                                   tmp_path):
    from egov.accounts.models import AssuranceLevel
    from egov.dossiers.models import Dossier, Status

    citizen = office["make"]("do-thi-ha", office["Role"].CITIZEN, "Hà", "Đỗ Thị")
    citizen.assurance_level = AssuranceLevel.VERIFIED
    citizen.save()
    scan = tmp_path / "to-khai.pdf"
    scan.write_bytes(PDF)

    sign_in(page, visit, citizen.username)
    visit(page, "/apply/2.000488/")
    assert "Cấp Phiếu lý lịch tư pháp" in page.locator("h1").inner_text()
    submit(page, "main form button[type=submit]")
    check_page(page)
    assert "/form-1/" in page.url

    page.fill("input[name='form_purpose']", "Du")  # too short
    page.fill("input[name='form_copies']", "2")
    submit(page, "button[name='continue']")
    check_page(page)
    assert page.locator(".error-summary").is_visible()
    assert page.input_value("input[name='form_copies']") == "2"  # kept
    page.fill("input[name='form_purpose']", "Du học")
    submit(page, "button[name='continue']")
    check_page(page)
    assert "/files-required/" in page.url

    page.set_input_files("input[name='file_to_khai']", str(scan))
    submit(page, "button[name='continue']")
    check_page(page)
    assert "/review/" in page.url
    assert "Du học" in page.locator("main").inner_text()
    assert "Không mất phí." in page.locator("#fees-title + p").inner_text()  # this version asks no fee
    submit(page, "button[name='submit']")
    check_page(page)

    dossier = Dossier.objects.get(applicant=citizen)
    assert dossier.status == Status.SUBMITTED
    assert f"/apply/done/{dossier.code}/" in page.url
    assert dossier.code in page.locator(".dossier-code").inner_text()

    visit(page, "/apply/drafts/")
    visit(page, "/my/documents/")
    assert dossier.code in page.locator("main").inner_text()


def test_a_citizen_resumes_a_draft_instead_of_starting_twice_and_deletes_one(page, visit, check_page, office):
    from egov.accounts.models import AssuranceLevel
    from egov.portal.apply_models import Draft

    citizen = office["make"]("tran-van-an", office["Role"].CITIZEN, "An", "Trần Văn")
    citizen.assurance_level = AssuranceLevel.VERIFIED
    citizen.save()
    sign_in(page, visit, citizen.username)
    visit(page, "/apply/2.000488/")
    submit(page, "main form button[type=submit]")
    page.fill("input[name='form_purpose']", "Du học")
    submit(page, "button[name='save']")  # save and finish later: on to "My drafts"
    check_page(page)
    assert page.url.endswith("/apply/drafts/")
    draft = Draft.objects.get(owner=citizen)
    row = page.locator("tbody tr")
    assert row.count() == 1 and "Cấp Phiếu lý lịch tư pháp" in row.inner_text()

    # Starting again offers the draft: continuing it makes no other one.
    visit(page, "/apply/2.000488/")
    assert page.locator("input[name='new']").count() == 1
    with page.expect_navigation():
        page.click(f"a[href='/apply/drafts/{draft.uid}/']")
    check_page(page)
    assert "/form-1/" in page.url and page.input_value("input[name='form_purpose']") == "Du học"
    assert Draft.objects.filter(owner=citizen).count() == 1

    # Deleting asks first, without JavaScript's help, then deletes.
    visit(page, "/apply/drafts/")
    with page.expect_navigation():
        page.click(f"a[href='/apply/drafts/{draft.uid}/delete/']")
    check_page(page)
    submit(page, "main form button[type=submit]")
    check_page(page)
    assert page.url.endswith("/apply/drafts/") and page.locator("tbody tr").count() == 0
    assert not Draft.objects.filter(owner=citizen).exists()
