"""GovStack Registration BB API over HTTP: a client system lists services, fetches an eForm, uploads a document and
submits an application for a citizen; an officer completes its task through the system; who may do what (401, 403);
bad input is a 4xx problem, never a 500; the OpenAPI document lists the endpoints."""
import datetime as dt
import secrets

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from egov.accounts.models import AssuranceLevel, Role, User
from egov.dossiers import services as dossiers
from egov.dossiers.models import Dossier, Status
from egov.exchange.services import register_client, register_oidc_client
from egov.govstack.registration_services import eform_id, service_id
from egov.kernel.access import SYSTEM
from egov.kernel.models import Event
from egov.registries.models import Agency
from tests.dossiers.conftest import PDF, make_version
from tests.govstack.conftest import ClientSystem, _person
from tests.kernel.conftest import calendar_2026  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

BASE = "/api/govstack/registration"
CODE = "2.000488"
SERVICE = service_id(CODE)


@pytest.fixture
def version(agency, calendar_2026):  # noqa: F811
    return make_version(agency, code=CODE)


@pytest.fixture
def hung(agency):
    """Đỗ Văn Hùng, male, born 1972, with a verified egov account linked to his population record."""
    person = _person("036072004321", "Đỗ Văn Hùng", dt.date(1972, 8, 20), "male")
    return User.objects.create(username="hung", role=Role.CITIZEN, person=person,
                               assurance_level=AssuranceLevel.VERIFIED)


def _officer(username, role, agency):
    user = User(username=username, role=role, agency=agency)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def officers(agency):
    return {"desk": _officer("desk", Role.DESK_OFFICER, agency),
            "specialist": _officer("specialist", Role.SPECIALIST, agency),
            "head": _officer("head", Role.HEAD_OF_UNIT, agency)}


@pytest.fixture
def portal(agency):
    """The agency's one-stop front end: reads, submits and works tasks."""
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:mot-cua", name="Một cửa",
                                  agency=agency, grants={"registration.read": [], "registration.submit": [],
                                                         "registration.tasks": []})
    return ClientSystem(client, key)


@pytest.fixture
def viewer(agency):
    """A system that may only read applications."""
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:xem", name="Xem",
                                  agency=agency, grants={"registration.read": []})
    return ClientSystem(client, key)


def officer_token(officer, system: ClientSystem) -> str:
    """The access token egov issued when ``officer`` signed in to ``system`` (OpenID Connect)."""
    application, _secret = register_oidc_client(caller=SYSTEM, client=system.client, kind="sign-in",
                                                redirect_uris=["https://mot-cua.example.gov.vn/callback"])
    raw = secrets.token_urlsafe(30)
    AccessToken.objects.create(user=officer, application=application, token=raw, scope="openid",
                               expires=timezone.now() + dt.timedelta(hours=1))
    return raw


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def upload(client, system, component="to_khai", content=PDF, name="to-khai.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"{BASE}/documents?additionalMetadata={component}",
                       {"file": SimpleUploadedFile(name, content, content_type="application/pdf")},
                       headers=system.headers)


def submit(api, system, document_urls, applicant="036072004321", data=None, eform=None):
    body = {"applicantId": applicant, "formData": {"data": data or {"purpose": "Xin việc làm"}},
            "documentUrls": document_urls}
    if eform:
        body["formData"]["eFormId"] = eform
    return api.post(f"{BASE}/services/{SERVICE}/applications", body, headers=system.headers)


def test_a_client_system_submits_and_an_officer_completes_the_task(api, client, version, hung, portal, officers):
    # The services and the e-form.
    services = api.get(f"{BASE}/services", {"name": "ly lich tu phap"}, headers=portal.headers)
    assert services.status_code == 200, services.content
    assert [s["id"] for s in services.json()] == [SERVICE]
    assert {"code": "procedureCode", "value": CODE} in services.json()[0]["serviceBody"]
    assert api.get(f"{BASE}/services/{CODE}", headers=portal.headers).json()["id"] == SERVICE
    forms = api.get(f"{BASE}/services/{SERVICE}/eForms", headers=portal.headers).json()
    assert forms == [{"eFormId": eform_id(CODE, 1), "name": version.name, "description": forms[0]["description"],
                      "version": "1", "latest": True}]
    form = api.get(f"{BASE}/eForms/{forms[0]['eFormId']}", headers=portal.headers).json()
    assert form["schema"]["required"] == ["purpose"]
    assert {"code": "to_khai", "name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "required": True} in form["documents"]

    # A document, then the application for Hùng.
    uploaded = upload(client, portal)
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json()["type"] == "application/pdf"
    assert client.get(uploaded.json()["url"], headers=portal.headers).status_code == 200
    response = submit(api, portal, [uploaded.json()["url"]], eform=form["eFormId"])
    assert response.status_code == 200, response.content
    application = response.json()
    assert application["status"] == {"code": "PENDING", "title": "Submitted online, not yet received"}
    assert application["serviceId"] == SERVICE and application["ended"] is False
    dossier = Dossier.objects.get(uid=application["fileId"])
    assert dossier.applicant == hung and dossier.channel == 2 and dossier.code == application["code"]
    assert dossier.attachments.get().component_code == "to_khai"
    assert Event.objects.get(event_type="registration.application_submitted").actor_id == portal.client.pk
    assert application["applicationData"]["applicantId"] == str(hung.oidc_subject.sub)  # never the ID number

    # The application in the agency's list, and read in full (a read the applicant can see).
    listed = api.get(f"{BASE}/applications", {"serviceId": SERVICE}, headers=portal.headers).json()
    assert [a["fileId"] for a in listed] == [application["fileId"]]
    read = api.get(f"{BASE}/applications/{application['fileId']}", headers=portal.headers).json()
    assert read["applicationData"]["formData"]["data"] == {"purpose": "Xin việc làm"}
    assert Event.objects.filter(event_type="dossier.read", subject_id=str(dossier.pk)).exists()
    document = client.get(read["applicationData"]["documentUrls"][0], headers=portal.headers)
    assert document.status_code == 200 and b"".join(document.streaming_content) == PDF

    # The desk receives and transfers it (back office); the specialist's step is a task.
    dossiers.receive(dossier.pk, officer=officers["desk"])
    dossiers.transfer(dossier.pk, officer=officers["desk"])
    tasks = api.get(f"{BASE}/tasks", {"fileId": application["fileId"]}, headers=portal.headers).json()
    assert [(t["name"], t["roleId"]) for t in tasks] == [("Thẩm định hồ sơ", "specialist")]
    task_id = tasks[0]["taskId"]
    assert api.get(f"{BASE}/tasks/{task_id}", headers=portal.headers).json()["taskName"] == "Thẩm định hồ sơ"

    done = api.post(f"{BASE}/tasks/{task_id}/complete", {"data": {"decision": "approve", "note": "Đủ điều kiện"}},
                    headers={**portal.headers, "Operator-Token": officer_token(officers["specialist"], portal)})
    assert done.status_code == 200, done.content
    assert done.json()["status"]["code"] == "PENDING"
    step = dossier.steps.get(task_id="process")
    assert step.completed_by == officers["specialist"] and step.outcome == "approve"
    assert Event.objects.filter(event_type="registration.task_completed").exists()
    assert [t["roleId"] for t in api.get(f"{BASE}/tasks", headers=portal.headers).json()] == ["head_of_unit"]
    again = api.post(f"{BASE}/tasks/{task_id}/complete", {"data": {}},
                     headers={**portal.headers, "Operator-Token": officer_token(officers["specialist"], portal)})
    is_problem(again, 409)


# --- Who may call ----------------------------------------------------------------------------------------------------

def test_without_credentials_it_is_401(api, client, version):
    assert is_problem(api.get(f"{BASE}/services"), 401)["title"] == "Authentication required"
    is_problem(api.post(f"{BASE}/services/{SERVICE}/applications", {"applicantId": "036072004321"}), 401)
    is_problem(api.get(f"{BASE}/applications"), 401)
    is_problem(api.post(f"{BASE}/tasks/1/complete", {"data": {}}), 401)


def test_a_client_without_the_right_is_403(api, client, version, hung, viewer, portal):
    assert "registration.submit" in is_problem(submit(api, viewer, []), 403)["detail"]
    is_problem(upload(client, viewer), 403)
    assert "registration.tasks" in is_problem(api.get(f"{BASE}/tasks", headers=viewer.headers), 403)["detail"]
    assert api.get(f"{BASE}/applications", headers=viewer.headers).status_code == 200
    stranger_client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:khac", name="Khác",
                                           agency=viewer.client.agency, grants={})
    stranger = ClientSystem(stranger_client, key)
    assert "registration.read" in is_problem(api.get(f"{BASE}/applications", headers=stranger.headers), 403)["detail"]


def _task_of_a_submitted_dossier(api, client, portal, officers):
    url = upload(client, portal).json()["url"]
    file_id = submit(api, portal, [url]).json()["fileId"]
    dossier = Dossier.objects.get(uid=file_id)
    dossiers.receive(dossier.pk, officer=officers["desk"])
    dossiers.transfer(dossier.pk, officer=officers["desk"])
    return dossier, api.get(f"{BASE}/tasks", {"fileId": file_id}, headers=portal.headers).json()[0]["taskId"]


def test_a_task_completed_by_an_officer_of_another_agency_is_403(api, client, version, hung, portal, officers):
    dossier, task_id = _task_of_a_submitted_dossier(api, client, portal, officers)
    other = Agency.objects.create(code="000.00.12.H41", name="Sở Tư pháp tỉnh Nghệ An")
    foreigner = _officer("foreign.specialist", Role.SPECIALIST, other)
    response = api.post(f"{BASE}/tasks/{task_id}/complete", {"data": {}},
                        headers={**portal.headers, "Operator-Token": officer_token(foreigner, portal)})
    assert "another agency" in is_problem(response, 403)["detail"]
    assert dossier.steps.get(task_id="process").completed_at is None


def test_completing_a_task_needs_the_officer_in_the_steps_role(api, client, version, hung, portal, officers):
    dossier, task_id = _task_of_a_submitted_dossier(api, client, portal, officers)
    without = api.post(f"{BASE}/tasks/{task_id}/complete", {"data": {}}, headers=portal.headers)
    assert "Operator-Token" in is_problem(without, 403)["detail"]
    wrong_role = api.post(f"{BASE}/tasks/{task_id}/complete", {"data": {}},
                          headers={**portal.headers, "Operator-Token": officer_token(officers["head"], portal)})
    assert "role" in is_problem(wrong_role, 403)["detail"]
    forged = api.post(f"{BASE}/tasks/{task_id}/complete", {"data": {}},
                      headers={**portal.headers, "Operator-Token": "not-a-token"})
    is_problem(forged, 401)
    assert dossier.steps.get(task_id="process").completed_at is None


def test_a_token_issued_to_another_system_does_not_name_the_officer(api, client, version, hung, portal, viewer,
                                                                     officers):
    _dossier, task_id = _task_of_a_submitted_dossier(api, client, portal, officers)
    elsewhere = officer_token(officers["specialist"], viewer)
    response = api.post(f"{BASE}/tasks/{task_id}/complete", {"data": {}},
                        headers={**portal.headers, "Operator-Token": elsewhere})
    assert "not issued to this client system" in is_problem(response, 403)["detail"]


def test_an_officer_signed_in_completes_a_task_of_their_agency(api, client, version, hung, portal, officers):
    from tests.dossiers.conftest import signed_in

    dossier, task_id = _task_of_a_submitted_dossier(api, client, portal, officers)
    browser = signed_in(Client(enforce_csrf_checks=False), officers["specialist"])
    response = browser.post(f"{BASE}/tasks/{task_id}/complete", {"data": {"decision": "approve"}},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert dossier.steps.get(task_id="process").completed_by == officers["specialist"]


def test_another_agencys_application_is_not_found(api, client, version, hung, portal):
    file_id = submit(api, portal, [upload(client, portal).json()["url"]]).json()["fileId"]
    other = Agency.objects.create(code="000.00.15.H29", name="Sở Xây dựng")
    outsider_client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.15.H29:xd", name="XD",
                                           agency=other, grants={"registration.read": []})
    outsider = ClientSystem(outsider_client, key)
    is_problem(api.get(f"{BASE}/applications/{file_id}", headers=outsider.headers), 404)
    assert api.get(f"{BASE}/applications", headers=outsider.headers).json() == []


def test_a_document_uploaded_by_one_system_cannot_be_linked_by_another(api, client, version, hung, portal, agency):
    url = upload(client, portal).json()["url"]
    other_client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:khac", name="Khác",
                                        agency=agency, grants={"registration.submit": []})
    is_problem(submit(api, ClientSystem(other_client, key), [url]), 404)
    assert not Dossier.objects.exists()


# --- Bad input: 4xx problems, never a 500 ----------------------------------------------------------------------------

def test_bad_applications_are_refused_with_the_field(api, client, version, hung, portal, agency):
    missing_document = is_problem(submit(api, portal, []), 422)
    assert "file_to_khai" in {e["field"].removeprefix("body.") for e in missing_document["errors"]}
    url = upload(client, portal).json()["url"]
    bad_form = is_problem(submit(api, portal, [url], data={"purpose": "x"}), 422)
    assert bad_form["errors"][0]["field"] == "body.form.purpose"
    assert is_problem(submit(api, portal, [url], applicant="123"), 422)["field"] == "body.applicantId"
    nobody = is_problem(submit(api, portal, [url], applicant="079090009999"), 422)
    assert "population registry" in nobody["detail"]
    _person("079090001234", "Nguyễn Văn An", dt.date(1990, 5, 17), "male")
    assert "no egov account" in is_problem(submit(api, portal, [url], applicant="079090001234"), 422)["detail"]
    is_problem(submit(api, portal, [url], eform="00000000-0000-0000-0000-000000000000"), 409)
    is_problem(submit(api, portal, ["https://elsewhere.example/forged"]), 404)
    is_problem(api.post(f"{BASE}/services/{SERVICE}/applications", "{not json", headers=portal.headers), 422)
    is_problem(api.post(f"{BASE}/services/{SERVICE}/applications", {"formData": {}}, headers=portal.headers), 422)
    is_problem(api.post(f"{BASE}/services/nope/applications", {"applicantId": "036072004321"},
                        headers=portal.headers), 404)
    assert not Dossier.objects.exists()


def test_where_the_answers_stand_for_the_declaration_the_applicant_must_have_declared_them_true(api, client, agency,
                                                                                                 calendar_2026,  # noqa: F811
                                                                                                 hung, portal):
    """Tờ khai điện tử: as on the portal's review page, answers that stand for the signed declaration need the
    applicant's affirmation; a signed declaration linked as a file needs none."""
    make_version(agency, code=CODE, components=[
        {"code": "to_khai", "name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "required": True, "eform": True},
        {"code": "cccd", "name": "Bản chụp Căn cước công dân", "required": False}])
    form = api.get(f"{BASE}/eForms/{eform_id(CODE, 1)}", headers=portal.headers).json()
    assert {"code": "to_khai", "name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "required": True,
            "eform": True} in form["documents"]

    undeclared = is_problem(submit(api, portal, []), 422)
    assert undeclared["field"] == "body.declared" and "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp" in undeclared["detail"]
    assert not Dossier.objects.exists()

    declared = api.post(f"{BASE}/services/{SERVICE}/applications",
                        {"applicantId": "036072004321", "formData": {"data": {"purpose": "Xin việc làm"}},
                         "documentUrls": [], "declared": True}, headers=portal.headers)
    assert declared.status_code == 200, declared.content
    dossier = Dossier.objects.get(uid=declared.json()["fileId"])
    assert dossier.transitions.get(form="ack").details == {"declared": True}

    signed_upload = submit(api, portal, [upload(client, portal).json()["url"]])
    assert signed_upload.status_code == 200, signed_upload.content


def test_an_applicant_below_the_procedures_assurance_level_is_refused(api, client, version, hung, portal):
    User.objects.filter(pk=hung.pk).update(assurance_level=AssuranceLevel.BASIC)
    response = submit(api, portal, [upload(client, portal).json()["url"]])
    assert "level" in is_problem(response, 403)["detail"]


def test_bad_uploads_and_lists_are_refused(api, client, version, portal):
    assert "PDF, JPEG and PNG" in is_problem(upload(client, portal, content=b"MZ\x90\x00 not a pdf"), 422)["detail"]
    assert "empty" in is_problem(upload(client, portal, content=b""), 422)["detail"]
    is_problem(upload(client, portal, component="bad component!"), 422)
    is_problem(client.post(f"{BASE}/documents", {}, headers=portal.headers), 422)
    is_problem(api.get(f"{BASE}/applications", {"sortBy": "priority"}, headers=portal.headers), 422)
    is_problem(api.get(f"{BASE}/applications", {"firstResult": -1}, headers=portal.headers), 422)
    is_problem(api.get(f"{BASE}/applications", {"maxResult": "many"}, headers=portal.headers), 422)
    is_problem(api.get(f"{BASE}/applications/not-a-uuid", headers=portal.headers), 404)
    is_problem(api.get(f"{BASE}/tasks/abc", headers=portal.headers), 404)
    is_problem(api.get(f"{BASE}/eForms/nope", headers=portal.headers), 404)
    is_problem(api.get(f"{BASE}/data/statistics", {"startDate": "2026-05-01", "endDate": "2026-04-01"},
                       headers=portal.headers), 422)
    is_problem(api.get(f"{BASE}/data/statistics", {"timeframe": "decade"}, headers=portal.headers), 422)


def test_page_size_is_capped(api, client, version, hung, portal):
    response = api.get(f"{BASE}/applications", {"maxResult": 100000}, headers=portal.headers)
    assert response.status_code == 200


def test_the_list_sorts_pages_and_filters_and_names_the_current_task(api, client, version, hung, portal, officers):
    files = [submit(api, portal, [upload(client, portal).json()["url"]]).json()["fileId"] for _ in range(3)]
    due = timezone.now() + dt.timedelta(days=10)
    for days, file_id in zip((3, 1, 2), files, strict=True):  # due dates in another order than the submissions
        Dossier.objects.filter(uid=file_id).update(appointment_at=due + dt.timedelta(days=days))
    newest_first = api.get(f"{BASE}/applications", headers=portal.headers).json()
    assert [a["fileId"] for a in newest_first] == files[::-1]
    assert newest_first[0]["applicantId"] == str(hung.oidc_subject.sub) and newest_first[0]["serviceId"] == SERVICE
    by_due_date = api.get(f"{BASE}/applications", {"sortBy": "dueDate", "sortOrder": "asc"}, headers=portal.headers)
    assert [a["fileId"] for a in by_due_date.json()] == [files[1], files[2], files[0]]
    second_page = api.get(f"{BASE}/applications", {"sortBy": "id", "sortOrder": "asc", "firstResult": 1, "maxResult": 1},
                          headers=portal.headers).json()
    assert [a["fileId"] for a in second_page] == [files[1]]
    assert len(api.get(f"{BASE}/applications", {"applicantId": "036072004321"}, headers=portal.headers).json()) == 3
    unknown = api.get(f"{BASE}/applications", {"applicantId": "079303009999"}, headers=portal.headers)
    assert is_problem(unknown, 422)["field"] == "query.applicantId"

    dossier = Dossier.objects.get(uid=files[0])
    dossiers.receive(dossier.pk, officer=officers["desk"])
    dossiers.transfer(dossier.pk, officer=officers["desk"])
    (item,) = [a for a in api.get(f"{BASE}/applications", headers=portal.headers).json() if a["fileId"] == files[0]]
    assert (item["taskTitle"], item["roleId"], item["status"]["code"]) == ("Thẩm định hồ sơ", "specialist", "PENDING")


def test_a_submitted_application_is_not_edited(api, client, version, hung, portal):
    file_id = submit(api, portal, [upload(client, portal).json()["url"]]).json()["fileId"]
    response = api.put(f"{BASE}/applications/{file_id}", {"applicantId": "036072004321"}, headers=portal.headers)
    is_problem(response, 409)


# --- Statistics ------------------------------------------------------------------------------------------------------

def test_statistics_count_the_agencys_outcomes(api, client, version, hung, portal, officers):
    first = submit(api, portal, [upload(client, portal).json()["url"]]).json()["fileId"]
    second = submit(api, portal, [upload(client, portal).json()["url"]]).json()["fileId"]
    dossiers.refuse(Dossier.objects.get(uid=first).pk, officer=officers["desk"], reasons=["Thiếu giấy tờ"])
    dossiers.request_supplement(Dossier.objects.get(uid=second).pk, officer=officers["desk"], missing=["Tờ khai"])
    today = timezone.localdate(timezone=dt.timezone(dt.timedelta(hours=7)))
    response = api.get(f"{BASE}/data/statistics", {"startDate": today.replace(day=1).isoformat(),
                                                   "endDate": today.isoformat(), "registrationName": CODE},
                       headers=portal.headers)
    assert response.status_code == 200, response.content
    (figures,) = response.json()
    assert (figures["processed"], figures["approved"], figures["rejected"], figures["sentBack"]) == (1, 0, 1, 1)
    daily = api.get(f"{BASE}/data/statistics", {"startDate": today.isoformat(), "endDate": today.isoformat(),
                                                "timeframe": "day"}, headers=portal.headers).json()
    assert len(daily) == 1 and daily[0]["references"]["timeframeDay"] is True
    assert Dossier.objects.get(uid=first).status == Status.REFUSED


# --- The contract ----------------------------------------------------------------------------------------------------

def test_the_openapi_document_lists_the_endpoints(client):
    schema = client.get("/api/openapi.json").json()
    paths = {path.removeprefix(f"{BASE}"): set(ops) for path, ops in schema["paths"].items() if path.startswith(BASE)}
    for path, method in [("/services", "get"), ("/services/{serviceId}", "get"), ("/services/{serviceId}/eForms", "get"),
                         ("/eForms/{eFormId}", "get"), ("/services/{serviceId}/applications", "post"),
                         ("/documents", "post"), ("/applications", "get"), ("/applications/{fileId}", "get"),
                         ("/applications/{fileId}", "put"), ("/tasks", "get"), ("/tasks/{taskId}", "get"),
                         ("/tasks/{taskId}/complete", "post"), ("/data/statistics", "get")]:
        assert method in paths.get(path, set()), path
    applications = schema["paths"][f"{BASE}/applications"]["get"]
    names = {p["name"] for p in applications["parameters"]}
    assert {"serviceId", "applicantId", "firstResult", "maxResult", "sortBy", "sortOrder",
            "Information-Mediator-Client"} <= names
