"""An applicant reads their notices in Chromium (Vietnamese browser), with axe on every page: the notices of their
dossier's submission and reception are listed, one is marked read by keyboard, the language of notices is changed."""
from tests.e2e.test_accounts_journeys import sign_in
from tests.e2e.test_backoffice_journeys import PDF, office, submit  # noqa: F401  (office is a fixture)


def test_an_applicant_reads_their_notifications(page, visit, check_page, office):  # noqa: F811
    from django.core.files.uploadedfile import SimpleUploadedFile

    from egov.dossiers import services as dossiers
    from egov.notifications import services
    from egov.notifications.models import Notification

    citizen = office["make"]("tran-thi-mai", office["Role"].CITIZEN, "Mai", "Trần Thị")
    desk = office["make"]("desk-mai", office["Role"].DESK_OFFICER)
    dossier = dossiers.submit_online(applicant_user=citizen, procedure_version=office["version"],
                                     agency=office["agency"], form_data={"purpose": "Du học"},
                                     files=[("to_khai", SimpleUploadedFile("a.pdf", PDF))])
    dossiers.receive(dossier.pk, officer=desk)
    services.consume_events()  # the notices; email and SMS stay queued (no delivery in this journey)

    sign_in(page, visit, citizen.username)
    visit(page, "/my/notifications/")
    items = page.locator("li.notification.unread")
    assert items.count() == 2 and dossier.code in items.first.inner_text()
    newest = Notification.objects.filter(user=citizen).order_by("-id").first()
    page.locator(f"#notification-{newest.pk} button[type=submit]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_page(page)
    assert page.locator("li.notification.unread").count() == 1
    page.select_option("#notification-language", "en")
    submit(page, "form[action$='/language/'] button[type=submit]")
    check_page(page)
    assert page.locator(".message-success").count() == 1
    assert services.language_of(citizen) == "en"
