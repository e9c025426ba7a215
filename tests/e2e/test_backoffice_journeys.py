"""The one-stop back office in Chromium (Vietnamese browser), with axe on every page.

(a) A desk officer receives a walk-in dossier at the desk (after one mistake in the form), transfers it; a specialist
asks for a supplement, which the desk records on the applicant's behalf; the specialist saves a draft result generated
from the template, the specialist and the head of unit complete their steps, the leader approves the last one and
signs the result in one action; the desk delivers it. Forms
01, 02 and 06 are downloaded and read (pypdf): each carries the dossier code and the applicant's name. The inbox and
the tracking book are visited on the way.
(b) An applicant who applied online opens their dossier's page and asks to withdraw it.
"""
import datetime as dt
import io
from decimal import Decimal

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.test_accounts_journeys import PASSWORD, current_code, enter_code, sign_in

APPLICANT_NAME = "Đỗ Văn Hùng"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def office(transactional_db, settings, tmp_path):
    from egov.accounts.models import Role, User
    from egov.kernel.calendar import seed_calendar
    from egov.procedures.models import Level, OnlineLevel, Procedure, ProcedureVersion
    from egov.registries.models import Agency
    from tests.dossiers.conftest import FORM_SCHEMA, THREE_STEPS

    settings.MEDIA_ROOT = tmp_path / "media"
    seed_calendar([dt.date.today().year - 1, dt.date.today().year, dt.date.today().year + 1])
    province = Agency.objects.create(code="000.00.00.H29", name="Ủy ban nhân dân Thành phố Hồ Chí Minh")
    agency = Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp Thành phố Hồ Chí Minh", parent=province)
    procedure = Procedure.objects.create(code="2.000488", name="Cấp Phiếu lý lịch tư pháp", sector="Lý lịch tư pháp")
    version = ProcedureVersion.objects.create(
        procedure=procedure, version=1, effective_from=dt.date(2025, 7, 1), name=procedure.name,
        sector=procedure.sector, level=Level.PROVINCE, duration_days=Decimal(5),
        steps=[{"id": "process", "name": "Thẩm định hồ sơ", "role": "specialist", "working_days": 3},
               {"id": "review", "name": "Kiểm tra kết quả thẩm định", "role": "head_of_unit", "working_days": 1},
               {"id": "approve", "name": "Phê duyệt", "role": "agency_leader", "working_days": 1}],
        fees=[], components=[{"code": "to_khai", "name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp",
                               "required": True}],
        form_schema=FORM_SCHEMA, online_level=OnlineLevel.FULL, min_assurance_level=1,
        result_type="Phiếu lý lịch tư pháp số 1",
        result_template="Phiếu lý lịch tư pháp cấp cho {applicant_name}, mục đích: {purpose}. Hồ sơ {code}.",
        bpmn=THREE_STEPS)
    version.agencies.add(agency)

    def make(username, role, first_name="", last_name=""):
        user = User(username=username, role=role, agency=agency if role != Role.CITIZEN else None,
                    first_name=first_name, last_name=last_name, email=f"{username}@example.org")
        user.set_password(PASSWORD)
        user.save()
        if user.needs_second_factor:
            TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        return user

    return {"agency": agency, "version": version, "make": make, "Role": Role}


def sign_in_officer(page, visit, check_page, user) -> None:
    sign_in(page, visit, user.username)
    assert "/accounts/login/totp/" in page.url
    check_page(page)
    device = TOTPDevice.objects.get(user=user)
    # A code is accepted once: signing in again within the same 30-second window would need the next code, which
    # a person waits for; the test forgets the last code used instead of waiting.
    device.last_t = -1
    device.save(update_fields=["last_t"])
    enter_code(page, current_code(device))
    assert "/accounts/login" not in page.url


def sign_out(page) -> None:
    with page.expect_navigation():
        page.click("header form.inline-form button")


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def do_action(page, check_page, name: str, fill=None) -> None:
    """Open the action's section (a <details>) if it has one, fill it, press its button; back on the dossier page."""
    section = page.locator(f"#action-{name}")
    if section.evaluate("e => e.tagName") == "DETAILS":
        section.locator("summary").click()
    if fill:
        fill(section)
    submit(page, f"#action-{name} button[type=submit]")
    check_page(page)
    assert page.locator(".message-success").count() == 1, page.locator("main").inner_text()


def pdf_text(page, url: str) -> str:
    from pypdf import PdfReader

    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf", url
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)


def pdf_file_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def test_a_walk_in_dossier_from_the_desk_to_delivery(page, visit, check_page, office, tmp_path):
    from egov.dossiers.models import Dossier, Status

    Role = office["Role"]
    desk = office["make"]("mot-cua", Role.DESK_OFFICER, "An", "Nguyễn Văn")
    specialist = office["make"]("chuyen-vien", Role.SPECIALIST, "Bình", "Trần Thị")
    head = office["make"]("truong-phong", Role.HEAD_OF_UNIT, "Cường", "Lê Văn")
    leader = office["make"]("lanh-dao", Role.AGENCY_LEADER, "Dung", "Phạm Thị")
    scan = tmp_path / "to-khai.pdf"
    scan.write_bytes(PDF)
    # The e-form stands for the declaration here (the catalogue's eform mark), so that the desk may print it.
    version = office["version"]
    version.components = [{**version.components[0], "eform": True}]
    version.save(update_fields=["components"])

    # The desk: intake of a walk-in dossier, one mistake first.
    sign_in_officer(page, visit, check_page, desk)
    visit(page, "/backoffice/")
    visit(page, "/backoffice/intake/")
    page.select_option("#id_version", str(office["version"].pk))
    submit(page, "main form button[type=submit]")
    check_page(page)
    page.check("#id_channel_0")
    page.fill("#id_applicant_full_name", APPLICANT_NAME)
    page.fill("#id_applicant_id_number", "03607200432")  # 11 digits
    page.fill("#id_applicant_date_of_birth", "20/08/1972")
    page.fill("#id_applicant_phone", "0903123456")
    page.fill("#id_form_purpose", "Xin việc làm")
    page.set_input_files("#id_file_to_khai", str(scan))
    submit(page, "main form button[type=submit]")
    check_page(page)
    assert page.locator("#id_applicant_id_number_error").is_visible()
    assert page.input_value("#id_applicant_full_name") == APPLICANT_NAME
    assert page.input_value("#id_form_purpose") == "Xin việc làm"
    assert page.locator("#choose-again").is_visible()
    page.fill("#id_applicant_id_number", "036072004321")
    # The applicant came without a signed declaration: the desk prints it from the answers typed, for them to sign;
    # a download, so the form stays as it is, and nothing is received yet.
    with page.expect_download() as printed:
        page.click("main form button[name=print_declaration]")
    declaration = pdf_file_text(printed.value.path())
    assert "NGƯỜI KHAI" in declaration and APPLICANT_NAME in declaration and "Xin việc làm" in declaration
    assert page.input_value("#id_applicant_id_number") == "036072004321"
    assert page.input_value("#id_form_purpose") == "Xin việc làm" and Dossier.objects.count() == 0
    page.set_input_files("#id_file_to_khai", str(scan))  # the signed declaration, scanned
    submit(page, "main form button[type=submit]")
    check_page(page)
    dossier = Dossier.objects.get()
    assert page.url.endswith(f"/backoffice/dossiers/{dossier.code}/")
    assert APPLICANT_NAME in page.locator("main").inner_text()
    receipt = pdf_text(page, f"/backoffice/dossiers/{dossier.code}/forms/01.pdf")
    assert dossier.code in receipt and APPLICANT_NAME in receipt
    do_action(page, check_page, "transfer")
    sign_out(page)

    # The specialist finds it in the inbox and asks for a supplement.
    sign_in_officer(page, visit, check_page, specialist)
    visit(page, "/backoffice/?status=4")
    submit(page, f"table.inbox a:text('{dossier.code}')")
    check_page(page)
    do_action(page, check_page, "request-supplement",
              lambda s: s.locator("textarea").first.fill("Bản sao giấy khai sinh\nẢnh 4x6"))
    request = pdf_text(page, f"/backoffice/dossiers/{dossier.code}/forms/02.pdf")
    assert dossier.code in request and APPLICANT_NAME in request
    sign_out(page)

    # The desk records the supplement the applicant brought in.
    sign_in_officer(page, visit, check_page, desk)
    visit(page, f"/backoffice/dossiers/{dossier.code}/")
    do_action(page, check_page, "supply", lambda s: (s.locator("input[type=file]").set_input_files(str(scan)),
                                                      s.locator("textarea").fill("Công dân nộp tại quầy")))
    sign_out(page)

    # The specialist drafts the result from the template (unsigned, no result code), and the specialist and the head
    # of unit complete their steps.
    sign_in_officer(page, visit, check_page, specialist)
    visit(page, f"/backoffice/dossiers/{dossier.code}/")
    assert page.locator("#action-sign-result").count() == 0
    do_action(page, check_page, "attach-result")
    assert dossier.attachments.filter(kind="draft").count() == 1 and not dossier.issued_results.exists()
    do_action(page, check_page, "complete-step",
              lambda s: s.locator("select[name='complete-step-next_assignee']").select_option(str(head.pk)))
    sign_out(page)
    sign_in_officer(page, visit, check_page, head)
    visit(page, f"/backoffice/dossiers/{dossier.code}/")
    do_action(page, check_page, "complete-step")
    sign_out(page)

    # The leader approves the last step and signs the result in one action (offered first on the last step).
    sign_in_officer(page, visit, check_page, leader)
    visit(page, f"/backoffice/dossiers/{dossier.code}/")
    assert page.locator("input[name='complete-step-decision'][value='approve-sign']").is_checked()
    do_action(page, check_page, "complete-step")
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY and dossier.issued_results.count() == 1
    sign_out(page)

    # The desk delivers it; the process-control slip shows every step.
    sign_in_officer(page, visit, check_page, desk)
    visit(page, f"/backoffice/dossiers/{dossier.code}/")
    do_action(page, check_page, "deliver", lambda s: s.locator("input[value=desk]").check())
    dossier.refresh_from_db()
    assert dossier.status == Status.DELIVERED
    slip = pdf_text(page, f"/backoffice/dossiers/{dossier.code}/forms/06.pdf")
    assert dossier.code in slip and APPLICANT_NAME in slip
    visit(page, "/backoffice/book/")
    assert dossier.code in page.locator("table.book").inner_text()


def test_an_applicant_opens_their_dossier_and_asks_to_withdraw_it(page, visit, check_page, office, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from egov.dossiers import services
    from egov.dossiers.models import Dossier, Status

    citizen = office["make"]("do-van-hung", office["Role"].CITIZEN, "Hùng", "Đỗ Văn")
    dossier = services.submit_online(applicant_user=citizen, procedure_version=office["version"],
                                     agency=office["agency"], form_data={"purpose": "Du học"},
                                     files=[("to_khai", SimpleUploadedFile("a.pdf", PDF))])
    sign_in(page, visit, citizen.username)
    visit(page, f"/dossiers/{dossier.code}/")
    assert dossier.code in page.locator("h1").inner_text()
    submit(page, "form[action$='/withdraw/'] button[type=submit]")  # no reason given
    check_page(page)
    assert page.locator(".error-summary").is_visible()
    page.fill("textarea[name='withdraw-reason']", "Không còn nhu cầu")
    submit(page, "form[action$='/withdraw/'] button[type=submit]")
    check_page(page)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.WITHDRAWAL_REQUESTED
