"""The back office pages over HTTP (Django test client, real database): the inbox's counts and filters, who may see
what, a forbidden move answering 409 with its reason, a desk intake sent back with everything kept, every action's
form reaching its service, and the applicant's own page."""
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.dossiers import services
from egov.dossiers.models import Attachment, Channel, Dossier, Status
from tests.dossiers.conftest import APPLICANT, PDF, make_version, pdf_file
from tests.kernel.conftest import vn


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def signed_in(client, user):
    """A browser signed in as ``user``; officers have passed the TOTP step (what django_otp.login stores)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    if user.needs_second_factor:
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def intake(officer, version, at=None, **more) -> Dossier:
    return services.intake_at_desk(officer=officer, procedure_version=version, channel=Channel.IN_PERSON,
                                   applicant=dict(APPLICANT), subject=None, form_data={"purpose": "Xin việc làm"},
                                   files=[("to_khai", pdf_file())], at=at, **more)


def post_action(client, dossier, action, data=None, **extra):
    return client.post(f"/backoffice/dossiers/{dossier.code}/{action}/", data or {}, **extra)


# --- The inbox -------------------------------------------------------------------------------------------------------

def test_inbox_counts_each_status_and_filters_by_status_and_deadline(client, officers, version, media):
    overdue = intake(officers["desk"], version, at=vn("2026-03-02 08:00"))    # appointment 9 March: long past
    fresh = intake(officers["desk"], version)                                 # received now: 5 working days left
    processing = intake(officers["desk"], version)
    services.transfer(processing.pk, officer=officers["desk"])
    signed_in(client, officers["desk"])

    page = client.get("/backoffice/").content.decode()
    assert 'Received <span class="count">2</span>' in page
    assert 'Being processed <span class="count">1</span>' in page
    assert all(d.code in page for d in (overdue, fresh, processing))
    assert page.count('class="badge badge-overdue"') == 1

    only_processing = client.get("/backoffice/", {"status": Status.PROCESSING}).content.decode()
    assert processing.code in only_processing and fresh.code not in only_processing

    only_overdue = client.get("/backoffice/", {"flag": "overdue"}).content.decode()
    assert overdue.code in only_overdue and fresh.code not in only_overdue and processing.code not in only_overdue


def test_inbox_shows_mine_by_dossier_or_open_step_and_what_is_near_its_deadline(client, officers, version, media):
    import datetime as dt

    from django.utils import timezone

    from egov.dossiers.models import Step

    specialist = officers["specialist"]
    by_step = intake(officers["desk"], version)
    services.transfer(by_step.pk, officer=officers["desk"])
    Step.objects.filter(dossier=by_step).update(assignee=specialist)
    by_dossier = intake(officers["desk"], version)
    Dossier.objects.filter(pk=by_dossier.pk).update(assignee=specialist)
    someone_elses = intake(officers["desk"], version)
    signed_in(client, specialist)

    mine = client.get("/backoffice/", {"mine": "1"}).content.decode()
    assert by_step.code in mine and by_dossier.code in mine and someone_elses.code not in mine
    assert 'id="filter-mine" name="mine" value="1" checked' in mine
    Step.objects.filter(dossier=by_step).update(completed_at=timezone.now())  # a finished step is no longer theirs
    assert by_step.code not in client.get("/backoffice/", {"mine": "1"}).content.decode()

    Dossier.objects.filter(pk=someone_elses.pk).update(appointment_at=timezone.now() + dt.timedelta(minutes=30))
    near = client.get("/backoffice/", {"flag": "near_deadline"}).content.decode()
    assert someone_elses.code in near and by_dossier.code not in near
    assert 'class="badge badge-near"' in near and '<option value="near_deadline" selected>' in near
    assert someone_elses.code not in client.get("/backoffice/", {"flag": "near_deadline",
                                                                 "status": Status.PROCESSING}).content.decode()


def test_inbox_pages_by_key(client, officers, version, media):
    codes = [intake(officers["desk"], version).code for _ in range(27)]
    signed_in(client, officers["desk"])
    first = client.get("/backoffice/").content.decode()
    assert codes[-1] in first and codes[1] not in first
    after = Dossier.objects.get(code=codes[2]).pk
    assert f"after={after}" in first
    second = client.get("/backoffice/", {"after": after}).content.decode()
    assert codes[1] in second and codes[0] in second and codes[-1] not in second


def test_a_citizen_is_refused_the_back_office(client, citizen):
    signed_in(client, citizen)
    assert client.get("/backoffice/").status_code == 403
    assert client.get("/backoffice/intake/").status_code == 403


def test_an_officer_of_another_agency_never_sees_the_dossier(client, officers, foreign_desk, version, media):
    dossier = intake(officers["desk"], version)
    signed_in(client, foreign_desk)
    assert client.get(f"/backoffice/dossiers/{dossier.code}/").status_code == 404
    assert client.get(f"/backoffice/dossiers/{dossier.code}/forms/01.pdf").status_code == 404
    assert post_action(client, dossier, "transfer").status_code == 404
    assert dossier.code not in client.get("/backoffice/").content.decode()
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/backoffice/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Actions -----------------------------------------------------------------------------------------------------------

def test_a_forbidden_move_answers_409_with_the_reason_and_changes_nothing(client, officers, version, media):
    dossier = intake(officers["desk"], version)  # received (2): refusing is only for a dossier not yet received
    signed_in(client, officers["desk"])
    response = post_action(client, dossier, "refuse", {"refuse-reasons": "Thiếu tờ khai"})
    assert response.status_code == 409
    assert "cannot move to" in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED and dossier.transitions.count() == 1


def test_a_move_for_another_role_answers_409(client, officers, version, media):
    dossier = intake(officers["desk"], version)
    signed_in(client, officers["specialist"])
    response = post_action(client, dossier, "transfer")
    assert response.status_code == 409
    assert "not for your role" in response.content.decode()


def test_an_action_with_bad_input_comes_back_with_the_error_and_the_text(client, officers, version, media):
    dossier = intake(officers["desk"], version)
    services.transfer(dossier.pk, officer=officers["desk"])
    signed_in(client, officers["specialist"])
    response = post_action(client, dossier, "request-supplement",
                           {"request-supplement-missing": "  \n ", "request-supplement-note": "Gọi trước khi đến"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter at least one missing item." in page and "Gọi trước khi đến" in page
    assert '<details class="action" id="action-request-supplement" open>' in page


def test_an_unknown_action_is_404_and_get_is_not_allowed(client, officers, version, media):
    dossier = intake(officers["desk"], version)
    signed_in(client, officers["desk"])
    assert post_action(client, dossier, "approve-everything").status_code == 404
    assert client.get(f"/backoffice/dossiers/{dossier.code}/transfer/").status_code == 405


def test_the_whole_journey_through_the_dossier_page(client, officers, version, media):
    """Every button reaches its service: supplement and supply at the desk, transfer, three steps, result, delivery;
    the page offers only what the officer may do now."""
    dossier = intake(officers["desk"], version)
    desk, specialist, head, leader = (signed_in(type(client)(), officers[r])
                                      for r in ("desk", "specialist", "head", "leader"))
    page = desk.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert "Đỗ Văn Hùng" in page and "Xin việc làm" in page and 'id="action-transfer"' in page
    assert "<dd>20/08/1972</dd>" in page  # the date of birth as dates are written, not ISO text
    assert 'id="action-refuse"' not in page

    assert post_action(desk, dossier, "transfer").status_code == 302
    assert post_action(specialist, dossier, "request-supplement",
                       {"request-supplement-missing": "Bản sao giấy khai sinh\nẢnh 4x6"}).status_code == 302
    assert post_action(desk, dossier, "supply", {"supply-note": "Công dân nộp tại quầy",
                                                 "supply-files": [pdf_file("khai-sinh.pdf")]}).status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING and dossier.attachments.filter(kind=Attachment.Kind.SUPPLEMENT).count() == 1

    page = specialist.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert 'id="action-complete-step"' in page
    response = post_action(specialist, dossier, "complete-step",
                           {"complete-step-task_id": "process", "complete-step-decision": "approve",
                            "complete-step-note": "Đủ điều kiện", "complete-step-next_assignee": officers["head"].pk})
    assert response.status_code == 302, response.content.decode()
    assert post_action(head, dossier, "complete-step", {"complete-step-task_id": "review",
                                                        "complete-step-decision": "approve"}).status_code == 302
    assert post_action(specialist, dossier, "attach-result", {}).status_code == 302  # a draft from the template
    page = leader.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert 'value="approve-sign"' in page and "Approve and sign the result" in page  # the last step: one action
    assert post_action(leader, dossier, "complete-step", {"complete-step-task_id": "approve",
                                                          "complete-step-decision": "approve-sign"}).status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY
    assert post_action(desk, dossier, "deliver", {"deliver-method": "desk"}).status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.DELIVERED

    page = desk.get(f"/backoffice/dossiers/{dossier.code}/").content.decode()
    assert "Nothing for you to do on this dossier now." in page
    # The history names each document issued, and who acted, family name first (Vietnamese order).
    for document in ("Form 01: receipt and appointment slip", "Form 06: process-control slip",
                     "Draft result (unsigned)", "Result", "Delivery of the result"):
        assert f"<td>{document}</td>" in page, document
    assert "<td>Nguyễn Văn An</td>" in page and "<td>06</td>" not in page
    for form in ("01", "02", "06"):
        response = desk.get(f"/backoffice/dossiers/{dossier.code}/forms/{form}.pdf")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", form
        assert response.content.startswith(b"%PDF")
    assert desk.get(f"/backoffice/dossiers/{dossier.code}/forms/03.pdf").status_code == 404  # never refused
    assert desk.get(f"/backoffice/dossiers/{dossier.code}/forms/09.pdf").status_code == 404
    result = dossier.attachments.get(kind=Attachment.Kind.RESULT)
    download = desk.get(f"/backoffice/dossiers/{dossier.code}/files/{result.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


# --- Intake at the desk ------------------------------------------------------------------------------------------------

def test_intake_lists_the_agencys_current_procedures(client, officers, version, other_agency):
    make_version(other_agency, code="1.000001")
    signed_in(client, officers["desk"])
    page = client.get("/backoffice/intake/").content.decode()
    assert "2.000488" in page and "1.000001" not in page
    form = client.get("/backoffice/intake/", {"version": version.pk}).content.decode()
    assert 'name="form_purpose"' in form and 'name="file_to_khai"' in form and "Purpose" in form


def intake_data(version, **changes):
    data = {"version": version.pk, "channel": Channel.POST, "applicant_full_name": "Đỗ Văn Hùng",
            "applicant_id_number": "036072004321", "applicant_date_of_birth": "20/08/1972",
            "applicant_phone": "0903123456", "applicant_email": "hung@example.org",
            "applicant_address": "12 Lê Lợi, Phường Sài Gòn", "form_purpose": "Xin việc làm", "form_copies": "2",
            "file_to_khai": pdf_file()}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_intake_with_an_error_keeps_everything_typed_and_names_the_files_to_choose_again(client, officers, version,
                                                                                       media):
    signed_in(client, officers["desk"])
    response = client.post("/backoffice/intake/", intake_data(version, applicant_id_number="03607200432",
                                                              form_purpose="", form_copies="12"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter the 12 digits of the number." in page
    assert 'value="03607200432"' in page and 'value="Đỗ Văn Hùng"' in page and 'value="20/08/1972"' in page
    assert 'value="12 Lê Lợi, Phường Sài Gòn"' in page
    assert "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp" in page.split('id="choose-again"')[1].split("</p>")[0]
    assert Dossier.objects.count() == 0


def test_intake_reports_the_services_checks_beside_the_fields(client, officers, version, media):
    """A number that does not fit the date of birth (the population rules) and a file that is not a PDF or image."""
    signed_in(client, officers["desk"])
    fake = SimpleUploadedFile("to-khai.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post("/backoffice/intake/", intake_data(version, file_to_khai=fake))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_file_to_khai_error"' in page and "Only PDF, JPEG and PNG" in page
    assert Dossier.objects.count() == 0


def test_intake_receives_the_dossier_and_shows_its_page(client, officers, version, media):
    signed_in(client, officers["desk"])
    response = client.post("/backoffice/intake/", intake_data(version, subject_different="on",
                                                              subject_full_name="Đỗ Minh Khôi",
                                                              subject_date_of_birth="01/06/2015"))
    assert response.status_code == 302, response.content.decode()
    dossier = Dossier.objects.get()
    assert response["Location"] == f"/backoffice/dossiers/{dossier.code}/"
    assert dossier.status == Status.RECEIVED and dossier.channel == Channel.POST
    content = dossier.content()
    assert content["subject"]["full_name"] == "Đỗ Minh Khôi" and content["form"] == {"purpose": "Xin việc làm",
                                                                                       "copies": 2}
    page = client.get(response["Location"]).content.decode()
    assert "Đỗ Minh Khôi" in page and f"/backoffice/dossiers/{dossier.code}/forms/01.pdf" in page


# --- Tracking book -------------------------------------------------------------------------------------------------

def test_the_tracking_book_filters_and_exports(client, officers, version, media):
    march = intake(officers["desk"], version, at=vn("2026-03-02 08:00"))
    april = intake(officers["desk"], version, at=vn("2026-04-06 08:00"))
    signed_in(client, officers["desk"])
    page = client.get("/backoffice/book/", {"date_from": "01/03/2026", "date_to": "31/03/2026"}).content.decode()
    assert march.code in page and april.code not in page and "Đỗ Văn Hùng" in page
    csv = client.get("/backoffice/book/", {"date_from": "01/03/2026", "date_to": "30/04/2026", "format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert march.code in text and april.code in text
    pdf = client.get("/backoffice/book/", {"date_from": "01/03/2026", "date_to": "30/04/2026", "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    bad = client.get("/backoffice/book/", {"date_from": "30/04/2026", "date_to": "01/03/2026"})
    assert bad.status_code == 400 and "The end date is before the start date." in bad.content.decode()


# --- The applicant's page --------------------------------------------------------------------------------------------

def online(citizen, version, agency):
    return services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                  form_data={"purpose": "Du học"}, files=[("to_khai", pdf_file())])


def test_the_applicant_sees_their_dossier_and_nobody_else_does(client, citizen, other_citizen, officers, agency,
                                                               version, media):
    dossier = online(citizen, version, agency)
    services.receive(dossier.pk, officer=officers["desk"])
    signed_in(client, citizen)
    page = client.get(f"/dossiers/{dossier.code}/").content.decode()
    assert dossier.code in page and "/forms/01.pdf" in page
    assert client.get(f"/dossiers/{dossier.code}/forms/01.pdf").status_code == 200
    assert client.get(f"/dossiers/{dossier.code}/forms/06.pdf").status_code == 404  # internal slip

    other = signed_in(type(client)(), other_citizen)
    assert other.get(f"/dossiers/{dossier.code}/").status_code == 404
    assert other.post(f"/dossiers/{dossier.code}/withdraw/", {"withdraw-reason": "x"}).status_code == 404
    desk = signed_in(type(client)(), officers["desk"])
    assert desk.get(f"/dossiers/{dossier.code}/").status_code == 404


def test_the_applicant_supplies_and_asks_to_withdraw(client, citizen, officers, agency, version, media):
    dossier = online(citizen, version, agency)
    services.request_supplement(dossier.pk, officer=officers["desk"], missing=["Ảnh 4x6"])
    signed_in(client, citizen)
    empty = client.post(f"/dossiers/{dossier.code}/supply/", {"supply-note": ""})
    assert empty.status_code == 400 and "Attach the missing documents" in empty.content.decode()
    response = client.post(f"/dossiers/{dossier.code}/supply/",
                           {"supply-files": [SimpleUploadedFile("anh.pdf", PDF)], "supply-note": "Ảnh 4x6"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED
    assert client.post(f"/dossiers/{dossier.code}/withdraw/", {"withdraw-reason": ""}).status_code == 400
    assert client.post(f"/dossiers/{dossier.code}/withdraw/",
                       {"withdraw-reason": "Không còn nhu cầu"}).status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.WITHDRAWAL_REQUESTED
    again = client.post(f"/dossiers/{dossier.code}/withdraw/", {"withdraw-reason": "Lần nữa"})
    assert again.status_code == 409


def test_intake_without_javascript_shows_the_chosen_provinces_communes_and_keeps_what_was_typed(client, officers,
                                                                                              agency, media):
    from egov.registries.models import AdministrativeUnit

    city = AdministrativeUnit.objects.create(generation="2025", level="province", code="79",
                                             name="Thành phố Hồ Chí Minh")
    AdministrativeUnit.objects.create(generation="2025", level="commune", code="26743", name="Phường Bến Thành",
                                      parent=city)
    schema = {"type": "object", "required": ["commune"],
              "properties": {"purpose": {"type": "string"}, "commune": {"type": "string", "pattern": "^\\d{5}$"}}}
    version = make_version(agency, code="2.004227",
                           ui_schema={"commune": {"label": "Xã, phường nơi cư trú", "widget": "commune"}})
    version.form_schema = schema
    version.save()
    signed_in(client, officers["desk"])
    page = client.get("/backoffice/intake/", {"version": version.pk}).content.decode()
    assert '<select name="form_commune_province"' in page and "Choose the province first" in page
    response = client.post("/backoffice/intake/", intake_data(version, form_commune_province="79",
                                                              show_communes="form_commune"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<option value="79" selected>Thành phố Hồ Chí Minh</option>' in page
    assert '<option value="26743">Phường Bến Thành</option>' in page
    assert 'value="Đỗ Văn Hùng"' in page and 'value="Xin việc làm"' in page
    assert "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp" in page.split('id="choose-again"')[1].split("</p>")[0]
    assert "message-error field" not in page and 'class="field field-error"' not in page
    assert Dossier.objects.count() == 0
    response = client.post("/backoffice/intake/", intake_data(version, form_commune_province="79",
                                                              form_commune="26743"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Dossier.objects.get().content()["form"]["commune"] == "26743"


def test_the_picker_lists_places_in_vietnamese_alphabetical_order_of_their_proper_names(db):
    from egov.dossiers.forms import communes_of, provinces
    from egov.registries.models import AdministrativeUnit

    made = {}
    for code, name, short in (("79", "Thành phố Hồ Chí Minh", "Hồ Chí Minh"), ("40", "Tỉnh Nghệ An", "Nghệ An"),
                              ("48", "Thành phố Đà Nẵng", "Đà Nẵng"), ("89", "Tỉnh An Giang", "An Giang")):
        made[code] = AdministrativeUnit.objects.create(generation="2025", level="province", code=code, name=name,
                                                       short_name=short)
    for code, name, short in (("26743", "Phường Bến Thành", "Bến Thành"), ("26734", "Phường Sài Gòn", "Sài Gòn"),
                              ("27004", "Xã Đông Thạnh", "Đông Thạnh"), ("26999", "Xã Dương Minh Châu", "")):
        AdministrativeUnit.objects.create(generation="2025", level="commune", code=code, name=name, short_name=short,
                                          parent=made["79"])
    assert [name for _code, name in provinces()] == ["Tỉnh An Giang", "Thành phố Đà Nẵng", "Thành phố Hồ Chí Minh",
                                                     "Tỉnh Nghệ An"]
    assert [name for _code, name in communes_of("79")] == ["Phường Bến Thành", "Xã Đông Thạnh", "Phường Sài Gòn",
                                                           "Xã Dương Minh Châu"]
