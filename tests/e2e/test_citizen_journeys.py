# ruff: noqa: F811  (the ``office`` fixture is imported from the back-office journeys)
"""A new citizen's whole journey on the portal, three times: with a mouse, with JavaScript disabled, and by keyboard
alone. Register, find the procedure by typing without diacritics, apply with an attachment, get the acknowledgement,
answer the agency's supplement request, follow the deadline clock, download the result, rate the service. The agency's
side is played through its services. axe-core runs on every page (in the runs where the page has JavaScript)."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: F401

from tests.e2e.test_accounts_journeys import PASSWORD
from tests.e2e.test_backoffice_journeys import PDF, office  # noqa: F401

MODES = ("mouse", "no-javascript", "keyboard")


class Citizen:
    """How the person uses the pages: ``mouse`` (clicks, JavaScript on), ``no-javascript``, or ``keyboard`` (Tab to
    reach each control, type, Space and Enter; never a click)."""

    def __init__(self, page, mode: str, check_page):
        self.page, self.mode, self._check = page, mode, check_page

    def check(self):
        if self.mode != "no-javascript":  # axe runs as a script in the page; the same pages are checked in the other runs
            self._check(self.page)

    def go(self, path: str):
        response = self.page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        self.check()

    def focus(self, selector: str):
        """Press Tab until ``selector`` has the focus: it must be reachable by keyboard."""
        target = self.page.locator(selector).first.element_handle()
        for _ in range(250):
            self.page.keyboard.press("Tab")
            if self.page.evaluate("element => document.activeElement === element", target):
                return
        raise AssertionError(f"{selector} cannot be reached with the Tab key on {self.page.url}")

    def fill(self, selector: str, text: str):
        if self.mode == "keyboard":
            self.focus(selector)
            self.page.keyboard.press("Control+A")
            self.page.keyboard.type(text)
        else:
            self.page.fill(selector, text)

    def press(self, selector: str):
        """Press a button or follow a link that leads to another page."""
        with self.page.expect_navigation():
            if self.mode == "keyboard":
                self.focus(selector)
                self.page.keyboard.press("Enter")
            else:
                self.page.click(selector)
        self.check()

    def choose(self, name: str, value: str):
        """Pick one radio button of a group (by keyboard: Tab into the group, then the arrow keys)."""
        wanted = f"input[name='{name}'][value='{value}']"
        if self.mode != "keyboard":
            self.page.check(wanted)
            return
        self.focus(f"input[name='{name}']")
        for _ in range(10):
            if self.page.is_checked(wanted):
                return
            self.page.keyboard.press("ArrowRight")
        raise AssertionError(f"{wanted} cannot be chosen with the arrow keys")

    def tick(self, selector: str):
        """Tick a checkbox (by keyboard: Tab to it, then Space)."""
        if self.mode == "keyboard":
            self.focus(selector)
            self.page.keyboard.press("Space")
        else:
            self.page.check(selector)
        assert self.page.is_checked(selector)

    def upload(self, selector: str, path):
        if self.mode == "keyboard":
            self.focus(selector)
            # One listener across both keys: Chromium opens a file input's chooser on Space (and on Enter), late on a
            # busy machine. With two expectations in turn, a chooser that opened between them went unseen, and the
            # input then ignored Enter while it waited for that chooser.
            choosers = []

            def keep(chooser):
                choosers.append(chooser)

            self.page.on("filechooser", keep)
            try:
                self.page.keyboard.press("Space")
                for tick in range(300):  # up to 30 s
                    if choosers:
                        break
                    if tick == 50:
                        self.page.keyboard.press("Enter")
                    self.page.wait_for_timeout(100)
            finally:
                self.page.remove_listener("filechooser", keep)
            assert choosers, f"{selector} opened no file chooser on Space or Enter"
            choosers[0].set_files(str(path))
        else:
            self.page.set_input_files(selector, str(path))

    def download(self, selector: str) -> bytes:
        with self.page.expect_download() as download:
            if self.mode == "keyboard":
                self.focus(selector)
                self.page.keyboard.press("Enter")
            else:
                self.page.click(selector)
        return open(download.value.path(), "rb").read()


@pytest.mark.parametrize("mode", MODES)
def test_a_new_citizen_applies_follows_and_rates(mode, open_page, check_page, office, tmp_path):
    from egov.dossiers import services
    from egov.dossiers.models import Attachment, Dossier, Rating, Status

    page = open_page(java_script_enabled=mode != "no-javascript", accept_downloads=True)
    citizen = Citizen(page, mode, check_page)
    Role = office["Role"]
    desk = office["make"]("desk", Role.DESK_OFFICER)
    specialist = office["make"]("specialist", Role.SPECIALIST)
    head = office["make"]("head", Role.HEAD_OF_UNIT)
    leader = office["make"]("leader", Role.AGENCY_LEADER)
    scan = tmp_path / "can-cuoc.pdf"
    scan.write_bytes(PDF)
    # As in the demo catalogue, the answers stand for the declaration (tờ khai điện tử): she uploads her ID card's copy.
    office["version"].components = [
        {"code": "to_khai", "name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "required": True, "eform": True},
        {"code": "cccd", "name": "Bản chụp Căn cước", "required": True}]
    office["version"].save(update_fields=["components"])

    # Register.
    citizen.go("/accounts/register/")
    citizen.fill("input[name=username]", "tran.thi.lan")
    citizen.fill("input[name=email]", "lan@example.org")
    citizen.fill("input[name=password1]", PASSWORD)
    citizen.fill("input[name=password2]", PASSWORD)
    citizen.press("main form button[type=submit]")
    assert page.url.endswith("/accounts/me/")

    # Find the procedure by typing without diacritics, open it, apply.
    citizen.go("/procedures/")
    citizen.fill("input[name=q]", "phieu ly lich tu phap")
    citizen.press("main form[role=search] button[type=submit], main form button[type=submit]")
    citizen.press("main a[href='/procedures/2.000488/']")
    assert "Cấp Phiếu lý lịch tư pháp" in page.locator("h1").inner_text()
    citizen.press("main a[href='/apply/2.000488/']")
    citizen.press("main form button[type=submit]")
    citizen.fill("input[name='form_purpose']", "Du học")
    citizen.press("button[name='continue']")
    assert page.locator("input[name='file_to_khai']").count() == 0
    citizen.upload("input[name='file_cccd']", scan)
    citizen.press("button[name='continue']")
    assert "Du học" in page.locator("main").inner_text()
    citizen.press("button[name='submit']")  # without declaring the answers true: told so, nothing lost
    assert "Bạn hãy đánh dấu ô cam đoan rằng nội dung khai là đúng sự thật" in page.locator("main").inner_text()
    assert not Dossier.objects.filter(applicant__username="tran.thi.lan").exists()
    citizen.tick("input[name='declared']")
    citizen.press("button[name='submit']")
    dossier = Dossier.objects.get(applicant__username="tran.thi.lan")
    assert dossier.status == Status.SUBMITTED
    assert dossier.code in page.locator("main").inner_text()  # the acknowledgement, at once

    # The desk receives it and the specialist asks for one more document: the clock pauses, the page says why.
    services.receive(dossier.pk, officer=desk)
    services.transfer(dossier.pk, officer=desk)
    services.request_supplement(dossier.pk, officer=specialist, missing=["Bản sao giấy khai sinh"])
    citizen.go(f"/dossiers/{dossier.code}/")
    assert page.locator("#clock-title").is_visible()
    assert "Bản sao giấy khai sinh" in page.locator("main").inner_text()
    citizen.upload("input[name='supply-files']", scan)
    citizen.fill("textarea[name='supply-note']", "Bản sao giấy khai sinh")
    citizen.press("form[action$='/supply/'] button[type=submit]")
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROCESSING

    # The agency finishes; she chose at the review to receive the result online, so the platform delivers it as soon
    # as it is signed: the citizen follows the clock, downloads the result, rates.
    services.complete_step(dossier.pk, officer=specialist, task_id="process")
    services.complete_step(dossier.pk, officer=head, task_id="review")
    services.complete_step(dossier.pk, officer=leader, task_id="approve")
    services.attach_result(dossier.pk, officer=leader, file=None)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.DELIVERED
    citizen.go(f"/dossiers/{dossier.code}/")
    assert page.locator("#clock-title").is_visible()
    result = Attachment.objects.get(dossier=dossier, kind=Attachment.Kind.RESULT)
    assert citizen.download(f"a[href='/dossiers/{dossier.code}/files/{result.pk}/']").startswith(b"%PDF")
    citizen.choose("rate-score", "5")
    citizen.fill("textarea[name='rate-comment']", "Nhanh, rõ ràng")
    citizen.press("form[action$='/rate/'] button[type=submit]")
    assert Rating.objects.get(dossier_id=dossier.pk).score == 5
