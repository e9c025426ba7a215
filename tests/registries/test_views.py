"""The registry web pages: an officer's logged person look-up, agency admins' registry definitions, and the citizen's
"who accessed my data" page."""
import html
import json
from datetime import date

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from egov.accounts.models import Role
from egov.exchange.models import ClientSystem, ServiceGrant
from egov.kernel.models import Event
from egov.registries.forms import Purpose
from egov.registries.models import Agency, Registry

LOOKUP = "/registries/persons/lookup/"
DOSSIER = "000.00.12.H29-260115-0001"
SCHEMA = {"type": "object", "properties": {"license_number": {"type": "string"}, "owner": {"type": "string"}},
          "required": ["license_number"]}


@pytest.fixture
def other_agency(db):
    province = Agency.objects.create(code="000.00.00.H41", name="UBND tỉnh Nghệ An")
    return Agency.objects.create(code="000.00.12.H41", name="Sở Tư pháp tỉnh Nghệ An", parent=province)


@pytest.fixture
def browser_for():
    """A test client signed in as ``user``, past the TOTP step when the account needs one, reading English."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def sign_in(user=None) -> Client:
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        if user is None:
            return client
        client.force_login(user)
        if user.needs_second_factor:
            device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return sign_in


@pytest.fixture
def ha(registered):
    return registered()


def lookup_form(**fields) -> dict:
    form = {"personal_id_number": "079303001234", "full_name": "", "date_of_birth": "",
            "purpose_kind": Purpose.DOSSIER, "purpose_details": DOSSIER}
    form.update(fields)
    return form


def reads_of(person) -> list[Event]:
    return list(Event.objects.filter(event_type="person.read", subject_type="registries.person",
                                     subject_id=str(person.pk)))


def vietnamese(text) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


# --- Person look-up -------------------------------------------------------------------------------------------------

def test_an_officer_looks_a_person_up_the_read_is_logged_and_the_data_shown(browser_for, make_user, ha):
    officer = make_user("can-bo-mot-cua")
    response = browser_for(officer).post(LOOKUP, lookup_form())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Đỗ Thị Hà" in page and "17/05/2003" in page and "Female" in page
    assert "This look-up was recorded and the person can see it" in page
    assert "no-store" in response["Cache-Control"]
    [event] = reads_of(ha)
    assert event.payload["purpose"] == f"{vietnamese(Purpose.LABELS[Purpose.DOSSIER])}: {DOSSIER}"
    assert event.payload["reader_agency"] == "000.00.12.H29" and event.payload["reader_role"] == Role.DESK_OFFICER
    assert event.payload["via"] == "web"
    assert "079303001234" not in json.dumps(event.payload) and "Đỗ" not in json.dumps(event.payload)


def test_an_officer_finds_a_person_by_full_name_and_date_of_birth(browser_for, make_user, ha):
    response = browser_for(make_user("chuyen-vien", role=Role.SPECIALIST)).post(LOOKUP, lookup_form(
        personal_id_number="", full_name="Đỗ Thị Hà", date_of_birth="17/05/2003",
        purpose_kind=Purpose.IDENTITY, purpose_details=""))
    assert response.status_code == 200
    assert "079303001234" in response.content.decode()
    assert reads_of(ha)[0].payload["purpose"] == vietnamese(Purpose.LABELS[Purpose.IDENTITY])


def test_an_invalid_identification_number_gets_the_rule_beside_the_field_and_keeps_the_input(browser_for, make_user,
                                                                                             ha):
    response = browser_for(make_user("can-bo-mot-cua")).post(LOOKUP, lookup_form(personal_id_number="07930300123",
                                                                                 purpose_details=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_personal_id_number_error"' in page
    assert "exactly 12 digits" in page
    assert 'value="07930300123"' in page and 'id="id_purpose_details_error"' in page  # every mistake at once
    assert f'<option value="{Purpose.DOSSIER}" selected>' in page
    response = browser_for(make_user("chuyen-vien", role=Role.SPECIALIST)).post(
        LOOKUP, lookup_form(personal_id_number="003303001234"))
    assert "Digits 1-3 must be the code of the province" in response.content.decode()
    assert f'value="{DOSSIER}"' in response.content.decode()
    assert reads_of(ha) == []


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"purpose_kind": "", "purpose_details": ""}, "purpose_kind", "Choose why you need this person&#x27;s data."),
    ({"purpose_details": ""}, "purpose_kind", None),
    ({"purpose_kind": Purpose.OTHER, "purpose_details": "  "}, "purpose_details", "Describe the purpose."),
    ({"purpose_kind": Purpose.OTHER, "purpose_details": "ha.do@example.vn"}, "purpose_details", "must not contain personal data"),
])
def test_a_look_up_without_a_purpose_is_refused(browser_for, make_user, ha, fields, field, message):
    response = browser_for(make_user("can-bo-mot-cua")).post(LOOKUP, lookup_form(**fields))
    assert response.status_code in (400, 422)
    page = response.content.decode()
    if field == "purpose_kind" and message is None:  # a dossier needs its code
        field, message = "purpose_details", "Enter the dossier code."
    assert f'id="id_{field}_error"' in page and message in page
    assert 'value="079303001234"' in page
    assert reads_of(ha) == []


def test_the_name_needs_the_date_of_birth(browser_for, make_user, ha):
    response = browser_for(make_user("can-bo-mot-cua")).post(LOOKUP, lookup_form(personal_id_number="",
                                                                                 full_name="Đỗ Thị Hà"))
    assert response.status_code == 400
    assert 'id="id_date_of_birth_error"' in response.content.decode()
    assert 'value="Đỗ Thị Hà"' in response.content.decode()


def test_nobody_found_says_so_and_logs_nothing(browser_for, make_user, ha):
    response = browser_for(make_user("can-bo-mot-cua")).post(LOOKUP, lookup_form(personal_id_number="001099012345"))
    assert response.status_code == 404
    assert "No person matches." in response.content.decode()
    assert reads_of(ha) == []


def test_citizens_and_anonymous_visitors_cannot_look_persons_up(browser_for, make_user, ha):
    citizen = browser_for(make_user("cong-dan", role=Role.CITIZEN, person=ha))
    assert citizen.get(LOOKUP).status_code == 403
    assert citizen.post(LOOKUP, lookup_form()).status_code == 403
    anonymous = browser_for()
    response = anonymous.post(LOOKUP, lookup_form())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert reads_of(ha) == []


def test_an_officer_without_the_totp_step_is_sent_to_it(make_user, ha):
    client = Client()
    client.force_login(make_user("can-bo-mot-cua"))
    response = client.get(LOOKUP)
    assert response.status_code == 302 and "/accounts/totp/" in response["Location"]


def test_an_agency_admin_has_no_look_up_right(browser_for, make_user, ha):
    response = browser_for(make_user("quan-tri", role=Role.AGENCY_ADMIN)).post(LOOKUP, lookup_form())
    assert response.status_code == 403
    assert reads_of(ha) == []


def test_the_menu_shows_each_user_the_pages_they_may_use(browser_for, make_user, ha):
    desk = browser_for(make_user("can-bo-mot-cua")).get("/").content.decode()
    assert LOOKUP in desk and 'href="/registries/"' not in desk and "/my/data-access/" not in desk
    admin = browser_for(make_user("quan-tri", role=Role.AGENCY_ADMIN)).get("/").content.decode()
    assert 'href="/registries/"' in admin and LOOKUP not in admin
    citizen = browser_for(make_user("cong-dan", role=Role.CITIZEN, person=ha)).get("/").content.decode()
    assert "/my/data-access/" in citizen and LOOKUP not in citizen and 'href="/registries/"' not in citizen


# --- Registry definitions -------------------------------------------------------------------------------------------

def registry_form(**fields) -> dict:
    form = {"code": "ho-kinh-doanh", "version": "1.0", "name": "Sổ đăng ký hộ kinh doanh", "description": "",
            "schema": json.dumps(SCHEMA, indent=2), "searchable_fields": "license_number, owner", "person_field": "",
            "protected": "on"}
    form.update(fields)
    return form


@pytest.fixture
def client_system(db, justice_department):
    from egov.exchange import services as exchange
    from egov.kernel.access import SYSTEM

    client, _key = exchange.register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich",
                                            name="Hộ tịch điện tử", agency=justice_department)
    return client


@pytest.fixture
def justice_admin(make_user):
    return make_user("quan-tri-tu-phap", role=Role.AGENCY_ADMIN)


@pytest.mark.parametrize("path", ["/registries/", "/registries/new/"])
def test_a_desk_officer_and_a_citizen_cannot_open_the_registry_pages(browser_for, make_user, path):
    assert browser_for(make_user("can-bo-mot-cua")).get(path).status_code == 403
    response = browser_for(make_user("cong-dan", role=Role.CITIZEN)).get(path)
    assert response.status_code == 403
    assert "This page is for agency officers only." in response.content.decode()
    assert browser_for().get(path).status_code == 302


def test_an_agency_admin_defines_a_registry_its_event_is_in_the_ledger_and_readers_are_granted(
        browser_for, justice_admin, client_system):
    admin = browser_for(justice_admin)
    assert admin.get("/registries/new/").status_code == 200
    response = admin.post("/registries/new/", registry_form(readers=[client_system.pk]))
    assert response.status_code == 302 and response["Location"] == "/registries/ho-kinh-doanh/1.0/"
    registry = Registry.objects.get(code="ho-kinh-doanh")
    assert registry.agency == justice_admin.agency and registry.protected
    assert registry.searchable_fields == ["license_number", "owner"]
    [event] = Event.objects.filter(event_type="registry.defined")
    assert event.partition == "000.00.12.H29" and event.actor_id == justice_admin.pk
    assert ServiceGrant.objects.filter(client=client_system, service="registry.ho-kinh-doanh.read").exists()
    assert not ServiceGrant.objects.filter(service="registry.ho-kinh-doanh.write").exists()

    page = admin.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "Registry ho-kinh-doanh version 1.0 is defined." in text
    assert "Sổ đăng ký hộ kinh doanh" in text and "license_number" in text
    assert f'value="{client_system.pk}" id="id_readers_0" checked>' in text
    assert f'value="{client_system.pk}" id="id_writers_0">' in text
    assert "Sổ đăng ký hộ kinh doanh" in admin.get("/registries/").content.decode()


def test_the_agency_admin_changes_who_may_read_and_write(browser_for, justice_admin, client_system):
    admin = browser_for(justice_admin)
    admin.post("/registries/new/", registry_form(readers=[client_system.pk]))
    response = admin.post("/registries/ho-kinh-doanh/1.0/", {"writers": [client_system.pk]})
    assert response.status_code == 302
    services = set(ServiceGrant.objects.filter(client=client_system).values_list("service", flat=True))
    assert services == {"registry.ho-kinh-doanh.write"}
    assert Event.objects.filter(event_type="exchange.registry_grants_set").count() == 2


def test_invalid_json_gets_its_line_and_column_beside_the_field_and_the_text_is_kept(browser_for, justice_admin):
    broken = '{\n  "type": "object",\n  "properties": {\n    "license_number": {"type": "string"},\n  }\n}'
    response = browser_for(justice_admin).post("/registries/new/", registry_form(schema=broken))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_schema_error"' in page
    assert "The schema is not valid JSON" in page and "line 5, column 3" in page
    assert html.escape(broken, quote=False) in page or html.escape(broken) in page
    assert 'value="ho-kinh-doanh"' in page and 'value="Sổ đăng ký hộ kinh doanh"' in page
    assert not Registry.objects.exists()


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"searchable_fields": "license_number, nope"}, "searchable_fields", "“nope” is not a property"),
    ({"schema": json.dumps({"type": "object", "properties": {"a": {"type": "nonsense"}}}), "searchable_fields": ""},
     "schema", "not valid JSON Schema"),
    ({"schema": json.dumps({"type": "object", "properties": {"a": 5}}), "searchable_fields": "a"}, "schema",
     "Describe property “a” with a JSON object"),
    ({"schema": "[1, 2]", "searchable_fields": ""}, "schema", "The schema must describe an object"),
    ({"code": "Hộ Kinh Doanh"}, "code", "lower-case letters"),
    ({"person_field": "citizen"}, "person_field", "is not a property of the schema"),
])
def test_definition_errors_are_shown_beside_their_field(browser_for, justice_admin, fields, field, message):
    response = browser_for(justice_admin).post("/registries/new/", registry_form(**fields))
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert f'id="id_{field}_error"' in page and message in page
    assert not Registry.objects.exists()


def test_a_registry_version_is_defined_once(browser_for, justice_admin):
    admin = browser_for(justice_admin)
    admin.post("/registries/new/", registry_form())
    response = admin.post("/registries/new/", registry_form())
    assert response.status_code == 400
    assert 'id="id_version_error"' in response.content.decode() and "exists already" in response.content.decode()


def test_an_agency_admin_of_another_agency_cannot_see_or_change_this_agencys_registry(
        browser_for, justice_admin, make_user, other_agency, client_system):
    browser_for(justice_admin).post("/registries/new/", registry_form())
    stranger = browser_for(make_user("quan-tri-nghe-an", role=Role.AGENCY_ADMIN, agency=other_agency))
    assert "ho-kinh-doanh" not in stranger.get("/registries/").content.decode()
    assert stranger.get("/registries/ho-kinh-doanh/1.0/").status_code == 403
    assert stranger.post("/registries/ho-kinh-doanh/1.0/", {"readers": [client_system.pk]}).status_code == 403
    assert not ServiceGrant.objects.filter(service="registry.ho-kinh-doanh.read").exists()
    # Their definitions are always of their own agency: there is no agency to choose.
    response = stranger.post("/registries/new/", registry_form(code="ho-tich-nghe-an",
                                                               agency_code="000.00.12.H29"))
    assert response.status_code == 302
    assert Registry.objects.get(code="ho-tich-nghe-an").agency == other_agency


def test_another_agencys_admin_cannot_define_a_version_of_this_agencys_code(
        browser_for, justice_admin, make_user, other_agency, client_system):
    """Rights are granted per code: a version 2.0 of the justice department's code, defined by Nghệ An, would let
    Nghệ An grant its systems the department's records (and drop the department's grants)."""
    from egov.exchange import services as exchange
    from egov.kernel.access import SYSTEM

    browser_for(justice_admin).post("/registries/new/", registry_form(readers=[client_system.pk],
                                                                      writers=[client_system.pk]))
    nghe_an_system, _key = exchange.register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H41:lay-du-lieu",
                                                    name="Hệ thống Nghệ An", agency=other_agency)
    stranger = browser_for(make_user("quan-tri-nghe-an", role=Role.AGENCY_ADMIN, agency=other_agency))
    response = stranger.post("/registries/new/", registry_form(version="2.0", readers=[nghe_an_system.pk],
                                                               writers=[nghe_an_system.pk]))
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert 'id="id_code_error"' in page
    assert ("This code belongs to Sở Tư pháp Thành phố Hồ Chí Minh's registry; choose another code." in
            page.split('id="id_code_error"', 1)[1][:300])
    assert list(Registry.objects.values_list("code", "version")) == [("ho-kinh-doanh", "1.0")]
    grants = set(ServiceGrant.objects.filter(service__startswith="registry.ho-kinh-doanh.")
                 .values_list("client_id", "service"))
    assert grants == {(client_system.pk, "registry.ho-kinh-doanh.read"),
                      (client_system.pk, "registry.ho-kinh-doanh.write")}
    assert not Event.objects.filter(event_type="registry.defined", partition=other_agency.code).exists()


def test_the_owning_agency_defines_further_versions_of_its_code(browser_for, justice_admin, client_system):
    admin = browser_for(justice_admin)
    admin.post("/registries/new/", registry_form(readers=[client_system.pk]))
    response = admin.post("/registries/new/", registry_form(version="2.0", readers=[client_system.pk]))
    assert response.status_code == 302 and response["Location"] == "/registries/ho-kinh-doanh/2.0/"
    assert Registry.objects.filter(code="ho-kinh-doanh", agency=justice_admin.agency).count() == 2


def test_the_platform_admin_cannot_give_an_owned_code_to_another_agency(
        browser_for, justice_admin, make_user, other_agency):
    browser_for(justice_admin).post("/registries/new/", registry_form())
    platform = browser_for(make_user("nen-tang", role=Role.PLATFORM_ADMIN, agency=None))
    response = platform.post("/registries/new/", registry_form(version="2.0", agency_code="000.00.12.H41"))
    assert response.status_code == 400
    assert "choose another code" in html.unescape(response.content.decode())
    response = platform.post("/registries/new/", registry_form(version="2.0", agency_code="000.00.12.H29"))
    assert response.status_code == 302


def test_a_version_another_agency_holds_from_before_does_not_let_it_change_the_owners_grants(
        browser_for, justice_admin, make_user, other_agency, client_system):
    """A version of the code Nghệ An defined before codes had owners: its page is the owner's to manage."""
    browser_for(justice_admin).post("/registries/new/", registry_form(readers=[client_system.pk]))
    Registry.objects.create(code="ho-kinh-doanh", version="2.0", name="Bản cũ", agency=other_agency, schema=SCHEMA,
                            searchable_fields=["license_number"])
    stranger = browser_for(make_user("quan-tri-nghe-an", role=Role.AGENCY_ADMIN, agency=other_agency))
    assert stranger.get("/registries/ho-kinh-doanh/2.0/").status_code == 403
    assert stranger.post("/registries/ho-kinh-doanh/2.0/", {"readers": []}).status_code == 403
    assert ServiceGrant.objects.filter(client=client_system, service="registry.ho-kinh-doanh.read").exists()
    assert browser_for(justice_admin).get("/registries/ho-kinh-doanh/2.0/").status_code == 200


def test_the_platform_admin_defines_a_registry_for_a_named_agency(browser_for, make_user, other_agency):
    platform = browser_for(make_user("nen-tang", role=Role.PLATFORM_ADMIN, agency=None))
    response = platform.post("/registries/new/", registry_form(agency_code="000.00.99.H41"))
    assert response.status_code == 400 and 'id="id_agency_code_error"' in response.content.decode()
    response = platform.post("/registries/new/", registry_form(agency_code="000.00.12.h41"))
    assert response.status_code == 302
    assert Registry.objects.get().agency == other_agency


def test_the_population_registry_is_shown_read_only(browser_for, justice_admin, justice_department, client_system):
    from egov.registries import services

    services.ensure_population_registry(justice_department.parent)
    admin = browser_for(justice_admin)
    assert "/registries/population/1.0/" in admin.get("/registries/").content.decode()
    page = admin.get("/registries/population/1.0/")
    assert page.status_code == 200 and "<form" not in page.content.decode().split("<main", 1)[1]
    assert admin.post("/registries/population/1.0/", {"readers": [client_system.pk]}).status_code == 403
    assert admin.get("/registries/population/9.9/").status_code == 404


# --- Who accessed my data -------------------------------------------------------------------------------------------

def test_the_citizen_sees_the_officers_read_with_agency_role_and_purpose(browser_for, make_user, ha):
    browser_for(make_user("can-bo-mot-cua")).post(LOOKUP, lookup_form())
    citizen = browser_for(make_user("cong-dan", role=Role.CITIZEN, person=ha))
    response = citizen.get("/my/data-access/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sở Tư pháp Thành phố Hồ Chí Minh (One-stop desk officer)" in page
    assert DOSSIER in page and "Read your data" in page and "egov web pages" in page
    assert "no-store" in response["Cache-Control"]


def test_egovs_own_purposes_are_shown_in_the_citizens_language(browser_for, make_user, ha):
    from egov.accounts.services import caller_for_user
    from egov.portal.apply_services import PREFILL_PURPOSE
    from egov.registries.services import read_person

    user = make_user("cong-dan", role=Role.CITIZEN, person=ha)
    read_person(ha, caller=caller_for_user(user), purpose=PREFILL_PURPOSE)
    browser = browser_for(user)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    page = browser.get("/my/data-access/").content.decode()
    assert "Điền sẵn hồ sơ nộp trực tuyến" in page and PREFILL_PURPOSE not in page


def test_a_citizen_never_sees_another_persons_log(browser_for, make_user, registered, ha):
    browser_for(make_user("can-bo-mot-cua")).post(LOOKUP, lookup_form())
    other = registered(number="001099012345", name="Nguyễn Văn An", born=date(1999, 1, 2),
                       sex="male")
    stranger = browser_for(make_user("nguoi-khac", role=Role.CITIZEN, person=other))
    page = stranger.get("/my/data-access/").content.decode()
    assert DOSSIER not in page and "One-stop desk officer" not in page
    ha_read = reads_of(ha)[0]
    page = stranger.get(f"/my/data-access/?before={ha_read.id + 1}").content.decode()
    assert DOSSIER not in page


def test_a_level_1_account_is_refused_and_told_how_to_reach_level_2(browser_for, make_user):
    response = browser_for(make_user("cong-dan", role=Role.CITIZEN)).get("/my/data-access/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "needs an account at level 2" in page and 'href="/accounts/verify/"' in page


def test_the_access_log_pages_back_by_key(browser_for, make_user, ha, monkeypatch):
    from egov.portal import views

    monkeypatch.setattr(views, "ACCESS_LOG_PAGE", 2)
    officer = browser_for(make_user("can-bo-mot-cua"))
    for number in range(3):
        officer.post(LOOKUP, lookup_form(purpose_details=f"000.00.12.H29-260115-000{number}"))
    citizen = browser_for(make_user("cong-dan", role=Role.CITIZEN, person=ha))
    first = citizen.get("/my/data-access/").content.decode()
    assert "260115-0002" in first and "260115-0001" in first and "260115-0000" not in first
    older = reads_of(ha)[1].id
    assert f"?before={older}" in first
    second = citizen.get(f"/my/data-access/?before={older}").content.decode()
    assert "260115-0000" in second and "260115-0001" not in second and "Newest entries" in second
    bad = citizen.get("/my/data-access/?before=abc")
    assert bad.status_code == 400 and "The page link is not valid" in bad.content.decode()


def test_the_data_access_page_needs_a_signed_in_account(browser_for):
    response = browser_for().get("/my/data-access/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_no_client_system_is_named_when_none_exists(browser_for, justice_admin):
    assert not ClientSystem.objects.exists()
    assert "No client system is registered yet" in browser_for(justice_admin).get("/registries/new/").content.decode()
