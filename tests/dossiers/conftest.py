"""Dossier fixtures: an agency with officers of every role, a procedure version with a three-step BPMN process, the
2026 calendar (Tết off from 14 to 22 February), and a helper that files a dossier online."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.accounts.models import AssuranceLevel, Role, User
from egov.procedures.models import Level, OnlineLevel, Procedure, ProcedureVersion
from egov.registries.models import Agency
from tests.kernel.conftest import calendar_2026, vn  # noqa: F401  (fixtures re-exported for the dossier tests)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40

THREE_STEPS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://egov.example/bpmn">
  <bpmn:collaboration id="collab"><bpmn:participant id="p" processRef="procedure_test"/></bpmn:collaboration>
  <bpmn:process id="procedure_test" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_specialist" name="specialist"><bpmn:flowNodeRef>process</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_head_of_unit" name="head_of_unit"><bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>review_gateway</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_agency_leader" name="agency_leader"><bpmn:flowNodeRef>approve</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="process" name="Thẩm định hồ sơ"/>
    <bpmn:userTask id="review" name="Kiểm tra kết quả thẩm định"/>
    <bpmn:exclusiveGateway id="review_gateway" default="f_ok"/>
    <bpmn:userTask id="approve" name="Phê duyệt"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="process"/>
    <bpmn:sequenceFlow id="f2" sourceRef="process" targetRef="review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="review_gateway"/>
    <bpmn:sequenceFlow id="f_back" sourceRef="review_gateway" targetRef="process">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == "return"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_ok" sourceRef="review_gateway" targetRef="approve"/>
    <bpmn:sequenceFlow id="f4" sourceRef="approve" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

FORM_SCHEMA = {
    "type": "object",
    "required": ["purpose"],
    "properties": {
        "purpose": {"type": "string", "title": "Purpose", "minLength": 3},
        "copies": {"type": "integer", "title": "Copies", "minimum": 1, "maximum": 10},
    },
}


@pytest.fixture(autouse=True)
def english(settings):
    """Assertions read the English source messages; Vietnamese (the default) is checked by the i18n tests."""
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def agency(db):
    province = Agency.objects.create(code="000.00.00.H29", name="Ủy ban nhân dân Thành phố Hồ Chí Minh")
    return Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp Thành phố Hồ Chí Minh", parent=province)


@pytest.fixture
def other_agency(db):
    return Agency.objects.create(code="000.00.12.H41", name="Sở Tư pháp tỉnh Nghệ An")


def _user(username, role, agency=None, **extra):
    user = User(username=username, role=role, agency=agency, first_name=extra.pop("first_name", ""),
                last_name=extra.pop("last_name", ""), **extra)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def officers(agency):
    return {
        "desk": _user("desk", Role.DESK_OFFICER, agency, first_name="An", last_name="Nguyễn Văn"),
        "specialist": _user("specialist", Role.SPECIALIST, agency, first_name="Bình", last_name="Trần Thị"),
        "head": _user("head", Role.HEAD_OF_UNIT, agency, first_name="Cường", last_name="Lê Văn"),
        "leader": _user("leader", Role.AGENCY_LEADER, agency, first_name="Dung", last_name="Phạm Thị"),
    }


@pytest.fixture
def foreign_desk(other_agency):
    return _user("foreign.desk", Role.DESK_OFFICER, other_agency)


@pytest.fixture
def citizen(db):
    return _user("citizen", Role.CITIZEN, first_name="Hùng", last_name="Đỗ Văn", assurance_level=AssuranceLevel.VERIFIED)


@pytest.fixture
def other_citizen(db):
    return _user("other.citizen", Role.CITIZEN, assurance_level=AssuranceLevel.VERIFIED)


def make_version(agency, *, code="2.000488", duration="5", steps=None, same_day=False, auto_receive=False,
                 components=None, bpmn=THREE_STEPS, result_template=None, **extra) -> ProcedureVersion:
    procedure = Procedure.objects.create(code=code, name="Cấp Phiếu lý lịch tư pháp", sector="Lý lịch tư pháp")
    version = ProcedureVersion.objects.create(
        procedure=procedure, version=1, effective_from=dt.date(2025, 7, 1), name=procedure.name,
        sector=procedure.sector, level=Level.PROVINCE, duration_days=Decimal(duration), same_day=same_day,
        steps=steps or [{"id": "process", "name": "Thẩm định hồ sơ", "role": "specialist", "working_days": 3},
                        {"id": "review", "name": "Kiểm tra kết quả thẩm định", "role": "head_of_unit", "working_days": 1},
                        {"id": "approve", "name": "Phê duyệt", "role": "agency_leader", "working_days": 1}],
        fees=[{"code": "LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000}],
        components=components if components is not None else [
            {"code": "to_khai", "name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "required": True},
            {"code": "cccd", "name": "Bản chụp Căn cước công dân", "required": False}],
        form_schema=FORM_SCHEMA, online_level=OnlineLevel.FULL, min_assurance_level=2, auto_receive=auto_receive,
        result_type="Phiếu lý lịch tư pháp số 1",
        result_template=result_template or "Phiếu lý lịch tư pháp cấp cho {applicant_name}, mục đích: {purpose}. "
                                           "Hồ sơ {code}.",
        bpmn=bpmn, **extra)
    version.agencies.add(agency)
    return version


@pytest.fixture
def version(agency, calendar_2026):  # noqa: F811
    return make_version(agency)


def birth_registration_at_desk(officers, agency, *, result_template: str):
    """A birth registration (its approval registers the child in the population registry) filed at the desk of
    ``agency`` (made to serve Thành phố Hồ Chí Minh) on 2 March 2026 and transferred to the processing unit."""
    from egov.dossiers import services
    from egov.registries.models import AdministrativeUnit

    agency.administrative_unit = AdministrativeUnit.objects.create(generation="2025", level="province", code="79",
                                                                   name="Thành phố Hồ Chí Minh")
    agency.save()
    version = make_version(agency, code="1.001193", registry_effect="population.birth", components=[],
                           result_template=result_template)
    version.form_schema = {"type": "object", "properties": {"child_full_name": {"type": "string"},
                                                            "child_sex": {"enum": ["nam", "nu"]},
                                                            "child_birth_date": {"type": "string"}}}
    version.save()
    dossier = services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                      applicant=APPLICANT, subject=None, files=[], at=vn("2026-03-02 08:00"),
                                      form_data={"child_full_name": "Đỗ Minh An", "child_sex": "nu",
                                                 "child_birth_date": "2026-02-20"})
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 08:10"))
    return dossier


def pdf_file(name="to-khai.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


APPLICANT = {"full_name": "Đỗ Văn Hùng", "id_number": "036072004321", "date_of_birth": dt.date(1972, 8, 20),
             "phone": "0903123456", "email": "hung@example.org", "address": "12 Lê Lợi, Phường Sài Gòn"}


def signed_in(client, user):
    """``client`` signed in as ``user``; an officer has passed the TOTP step (what django_otp.login() stores); the
    browser asks for English."""
    from django.conf import settings
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    if user.is_officer:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
