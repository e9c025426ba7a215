# ruff: noqa: F811  (the ``office`` fixture is imported from the back-office journeys)
"""Tracking, rating and feedback in Chromium (Vietnamese browser), with axe on every page visited.

A citizen who applied online opens "my dossiers", follows the deadline clock of their dossier while it waits for a
supplement (paused, with the reason), sends the supplement, and once the result is delivered downloads it and rates
the service. They send feedback about a regulation; an officer of the agency accepts, answers and publishes it from
the back-office list; anyone then finds the published answer by typing without diacritics. The public look-up answers
"no match" for a wrong pair.
"""
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.e2e.test_accounts_journeys import sign_in
from tests.e2e.test_backoffice_journeys import PDF, office, sign_in_officer, sign_out, submit  # noqa: F401


def test_a_citizen_follows_the_clock_rates_and_finds_a_published_answer(page, visit, check_page, office, tmp_path):
    from egov.dossiers import services
    from egov.dossiers.models import Dossier, Rating, Status
    from egov.portal.feedback_models import Feedback, FeedbackStatus

    Role = office["Role"]
    citizen = office["make"]("do-van-hung", Role.CITIZEN, "Hùng", "Đỗ Văn")
    desk = office["make"]("desk", Role.DESK_OFFICER, "An", "Nguyễn Văn")
    specialist = office["make"]("specialist", Role.SPECIALIST, "Bình", "Trần Thị")
    head = office["make"]("head", Role.HEAD_OF_UNIT)
    leader = office["make"]("leader", Role.AGENCY_LEADER)
    dossier = services.submit_online(applicant_user=citizen, procedure_version=office["version"],
                                     agency=office["agency"], form_data={"purpose": "Du học"},
                                     files=[("to_khai", SimpleUploadedFile("a.pdf", PDF))])
    services.receive(dossier.pk, officer=desk)
    services.transfer(dossier.pk, officer=desk)
    services.request_supplement(dossier.pk, officer=specialist, missing=["Bản sao giấy khai sinh"])

    # My dossiers → the dossier: the clock is paused, and the page says what is missing.
    sign_in(page, visit, citizen.username)
    visit(page, "/dossiers/")
    with page.expect_navigation():
        page.click(f"a[href='/dossiers/{dossier.code}/']")
    check_page(page)
    assert page.locator("#clock-title").is_visible()
    assert page.locator("#pauses-caption").is_visible() and page.locator("#steps-caption").is_visible()
    assert "Bản sao giấy khai sinh" in page.locator("section[aria-labelledby='request-title']").inner_text()
    page.set_input_files("input[name='supply-files']", files=[
        {"name": "giay-khai-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    submit(page, "form[action$='/supply/'] button[type=submit]")
    check_page(page)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROCESSING
    assert page.locator("section[aria-labelledby='request-title']").count() == 0

    # The agency finishes and delivers online; the citizen downloads the result and rates the service.
    services.complete_step(dossier.pk, officer=specialist, task_id="process")
    services.complete_step(dossier.pk, officer=head, task_id="review")
    services.complete_step(dossier.pk, officer=leader, task_id="approve")
    result = services.attach_result(dossier.pk, officer=leader, file=None)
    services.deliver(dossier.pk, officer=desk, method="online")
    visit(page, f"/dossiers/{dossier.code}/")
    download = page.request.get(f"/dossiers/{dossier.code}/files/{result.pk}/")
    assert download.status == 200 and download.body().startswith(b"%PDF")
    submit(page, "form[action$='/rate/'] button[type=submit]")   # no score chosen
    check_page(page)
    assert page.locator(".error-summary").is_visible()
    page.check("input[name='rate-score'][value='5']")
    page.fill("textarea[name='rate-comment']", "Nhanh, rõ ràng")
    submit(page, "form[action$='/rate/'] button[type=submit]")
    check_page(page)
    assert Rating.objects.get(dossier_id=dossier.pk).score == 5
    assert page.locator("form[action$='/rate/']").count() == 0

    # Feedback about a regulation, then the citizen's own list.
    visit(page, "/feedback/")
    page.check("input[name='topic'][value='regulation']")
    page.fill("input[name='agency_name']", "so tu phap ho chi minh")  # one agency has that name: taken when sent
    page.fill("input[name='subject']", "Thủ tục cấp Phiếu lý lịch tư pháp")
    page.fill("textarea[name='text']", "Đề nghị cho phép nhận kết quả qua bưu chính.")
    submit(page, "form[action='/feedback/'] button[type=submit]")
    check_page(page)
    feedback = Feedback.objects.get()
    visit(page, "/feedback/mine/")
    assert feedback.reference in page.locator("main").inner_text()
    sign_out(page)

    # An officer of the agency handles it from the back-office list: accept, answer, publish.
    sign_in_officer(page, visit, check_page, desk)
    visit(page, "/backoffice/feedback/")
    with page.expect_navigation():
        page.click(f"a:text('{feedback.reference}')")
    check_page(page)
    submit(page, "section[aria-labelledby='action-accept'] button")
    check_page(page)
    page.fill("textarea[name='answer-text']", "Kết quả có thể nhận qua bưu chính công ích.")
    submit(page, "section[aria-labelledby='action-answer'] button")
    check_page(page)
    page.fill("textarea[name='publish-question']", "Có thể nhận Phiếu lý lịch tư pháp qua bưu chính không?")
    page.fill("textarea[name='publish-answer']", "Có: kết quả có thể nhận qua bưu chính công ích.")
    submit(page, "section[aria-labelledby='action-publish'] button")
    check_page(page)
    assert Feedback.objects.get().status == FeedbackStatus.PUBLISHED
    sign_out(page)

    # Anyone finds the answer typing without diacritics; the public look-up says "no match" for a wrong pair.
    visit(page, "/feedback/answers/")
    page.fill("input[name='q']", "phieu ly lich buu chinh")
    with page.expect_navigation():
        page.press("input[name='q']", "Enter")
    check_page(page)
    assert "Phiếu lý lịch tư pháp qua bưu chính" in page.locator("main article").first.inner_text()
    visit(page, "/lookup/")
    page.fill("input[name='code']", dossier.code)
    page.fill("input[name='id_number']", "001099000001")
    submit(page, "form[action='/lookup/'] button[type=submit]")
    check_page(page)
    assert page.locator("[role=alert]").is_visible()
