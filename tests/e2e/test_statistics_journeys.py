# ruff: noqa: F811  (the ``office`` fixture is imported from the back-office journeys)
"""The public statistics in Chromium (Vietnamese browser), with axe on every page visited.

Anyone, without signing in, follows the menu link to the statistics, reads the figures of the agency's dossiers
(kept up to date by the ledger consumer), narrows them to the online channel and one month with the filters (no
JavaScript: a GET form), sees the charts drawn as SVG with their title, and downloads the CSV for a spreadsheet.
"""
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.e2e.test_backoffice_journeys import PDF, office, submit  # noqa: F401


def test_anyone_reads_filters_and_downloads_the_statistics(page, visit, check_page, office):
    from egov.dossiers import services
    from egov.dossiers.models import Dossier
    from egov.monitoring import queries
    from egov.monitoring import services as statistics

    Role = office["Role"]
    citizen = office["make"]("do-van-hung", Role.CITIZEN, "Hùng", "Đỗ Văn")
    desk = office["make"]("desk", Role.DESK_OFFICER)
    specialist = office["make"]("specialist", Role.SPECIALIST)
    head = office["make"]("head", Role.HEAD_OF_UNIT)
    leader = office["make"]("leader", Role.AGENCY_LEADER)
    walk_in = services.intake_at_desk(officer=desk, procedure_version=office["version"], channel=1,
                                      applicant={"full_name": "Trần Văn Bình", "id_number": "079090001234"},
                                      subject=None, form_data={"purpose": "Xin việc"}, files=[])
    services.transfer(walk_in.pk, officer=desk)
    services.attach_result(walk_in.pk, officer=specialist, file=None)  # the draft
    for officer, task in ((specialist, "process"), (head, "review")):
        services.complete_step(walk_in.pk, officer=officer, task_id=task)
    services.approve_and_sign(walk_in.pk, officer=leader, task_id="approve")
    online = services.submit_online(applicant_user=citizen, procedure_version=office["version"],
                                    agency=office["agency"], form_data={"purpose": "Du học"},
                                    files=[("to_khai", SimpleUploadedFile("a.pdf", PDF))])
    services.receive(online.pk, officer=desk)
    statistics.update()
    queries._choices = None  # the filters' choices are kept a few minutes per process
    # Received at the next working day's opening when submitted out of office hours (DOMAIN.md), so the month to
    # filter on is the month of reception, not always today's.
    received = timezone.localtime(Dossier.objects.get(pk=online.pk).received_at).date()

    # The menu leads to the statistics; the year's figures: two received, one processed early, one pending.
    visit(page, "/")
    with page.expect_navigation():
        page.click("nav.site-nav a[href='/statistics/']")
    check_page(page)
    if received.year != timezone.localdate().year:  # submitted on New Year's Eve after office hours
        page.select_option("#id_year", str(received.year))
        submit(page, ".statistics-filters button[type=submit]")
    table = page.locator("table.figures").first
    assert table.locator("caption").is_visible()
    rows = {row.locator("th").inner_text().strip(): row.locator("td").first.inner_text().strip()
            for row in table.locator("tbody tr").all()}
    assert list(rows.values())[:2] == ["2", "2"]        # received: total, new in the period
    assert page.locator("svg#chart-processed, svg[aria-labelledby^='chart-processed']").count() == 1
    assert page.locator("#chart-processed-title").count() == 1

    # The online channel for this month: one received, none processed, the online share 100 %.
    page.select_option("#id_channel", "2")
    page.select_option("#id_month", str(received.month))
    submit(page, ".statistics-filters button[type=submit]")
    check_page(page)
    assert f"month={received.month}" in page.url and "channel=2" in page.url
    assert "100,0%" in page.locator("table.figures").inner_text()  # Vietnamese number format
    assert page.locator("section[aria-labelledby='months-title']").count() == 0  # one month: no charts

    # The CSV of the same filter opens in a spreadsheet: UTF-8 with a BOM, Vietnamese headers.
    href = page.locator("a[download]").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200 and response.body().startswith(b"\xef\xbb\xbf")
    text = response.body().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Kỳ,Tổng số tiếp nhận,Mới tiếp nhận")
    assert text.splitlines()[1].startswith(f"{received.month:02d}/{received.year},1,1,0,1,100")

    # A bad filter is named on the page, never a server error.
    visit(page, "/statistics/?month=13&agency=000.00.99.H99", status=400)
    assert page.locator("[role=alert]").is_visible()
