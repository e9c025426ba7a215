"""The deadline clock, with the expected instants written out by hand (Vietnam time; office hours 07:30–11:30 and
13:00–17:00; Tết 2026 closes 14–22 February). The test procedure takes 5 working days: process 3, review 1, approve 1."""
import pytest

from egov.dossiers import queries, services
from egov.dossiers.models import Status
from tests.dossiers.conftest import APPLICANT, make_version, pdf_file, vn

pytestmark = pytest.mark.django_db


def walk_in(officers, version, at):
    return services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1, applicant=APPLICANT,
                                   subject=None, form_data={"purpose": "xin việc"},
                                   files=[("to_khai", pdf_file())], at=at)


def test_received_after_hours_counts_from_the_next_working_day_after_tet(officers, version):
    dossier = walk_in(officers, version, vn("2026-02-13 17:30"))
    assert dossier.received_at == vn("2026-02-23 07:30")
    assert dossier.appointment_at == vn("2026-02-27 17:00")


def test_received_on_a_public_holiday_counts_from_the_next_working_day(officers, version):
    dossier = walk_in(officers, version, vn("2026-02-17 10:00"))
    assert dossier.received_at == vn("2026-02-23 07:30")


def test_same_day_procedure_received_after_three_pm_counts_from_the_next_morning(officers, agency, calendar_2026):
    same_day = make_version(agency, code="2.000815", duration="0.5", same_day=True,
                            steps=[{"id": "process", "name": "Chứng thực", "role": "specialist", "working_days": 0.5}])
    dossier = walk_in(officers, same_day, vn("2026-03-02 15:10"))
    assert dossier.received_at == vn("2026-03-03 07:30")
    assert dossier.appointment_at == vn("2026-03-03 11:30")


def test_received_at_lunch_the_clock_says_when_it_arrived_and_counts_from_the_afternoon(officers, version):
    dossier = walk_in(officers, version, vn("2026-03-02 12:10"))
    assert dossier.received_at == vn("2026-03-02 13:00")
    clock = queries.clock(dossier, now=vn("2026-03-02 12:15"))
    assert clock.arrived_at == vn("2026-03-02 12:10") and clock.received_at == vn("2026-03-02 13:00")
    in_office_hours = walk_in(officers, version, vn("2026-03-02 08:00"))
    assert queries.clock(in_office_hours).arrived_at is None


def test_received_in_office_hours_starts_at_once(officers, version):
    dossier = walk_in(officers, version, vn("2026-03-02 08:00"))
    assert dossier.received_at == vn("2026-03-02 08:00")
    assert dossier.appointment_at == vn("2026-03-09 08:00")  # 40 working hours later


def test_a_supplement_pause_moves_the_appointment_by_the_working_time_waited(officers, version):
    dossier = walk_in(officers, version, vn("2026-03-02 08:00"))
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 08:05"))
    services.request_supplement(dossier.pk, officer=officers["specialist"], missing=["Bản sao giấy khai sinh"],
                                at=vn("2026-03-03 08:00"))
    paused = services.supply(dossier.pk, user=officers["desk"], files=[("cccd", pdf_file())],
                             at=vn("2026-03-05 08:00"))
    assert paused.status == Status.PROCESSING
    assert paused.appointment_at == vn("2026-03-11 08:00")  # two working days (16 h) waited
    assert paused.original_appointment_at == vn("2026-03-09 08:00")


def test_a_fees_pause_moves_the_appointment_by_the_working_time_waited(officers, version):
    dossier = walk_in(officers, version, vn("2026-03-02 08:00"))
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 08:05"))
    services.request_fees(dossier.pk, officer=officers["specialist"], at=vn("2026-03-04 13:00"))
    dossier = services.record_payment(dossier.pk, officer=officers["desk"], at=vn("2026-03-04 15:00"))
    assert dossier.appointment_at == vn("2026-03-09 10:00")  # two working hours waited


def test_an_apology_sets_the_new_date_once_and_later_pauses_still_extend_it(officers, version):
    dossier = walk_in(officers, version, vn("2026-03-02 08:00"))
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 08:05"))
    dossier = services.apologise(dossier.pk, officer=officers["head"], new_appointment_at=vn("2026-03-13 17:00"),
                                 reason="Cần xác minh thêm tại địa phương", at=vn("2026-03-05 09:00"))
    assert dossier.appointment_at == vn("2026-03-13 17:00")
    services.request_fees(dossier.pk, officer=officers["specialist"], at=vn("2026-03-10 13:00"))
    dossier = services.record_payment(dossier.pk, officer=officers["desk"], at=vn("2026-03-10 17:00"))
    assert dossier.appointment_at == vn("2026-03-16 11:30")  # four more working hours
    with pytest.raises(services.TransitionRefused, match="once"):
        services.apologise(dossier.pk, officer=officers["head"], new_appointment_at=vn("2026-03-20 17:00"),
                           reason="Lần nữa", at=vn("2026-03-11 09:00"))


def test_an_apology_after_the_appointment_date_is_refused(officers, version):
    dossier = walk_in(officers, version, vn("2026-03-02 08:00"))
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 08:05"))
    with pytest.raises(services.TransitionRefused, match="before the appointment"):
        services.apologise(dossier.pk, officer=officers["head"], new_appointment_at=vn("2026-03-13 17:00"),
                           reason="Muộn", at=vn("2026-03-09 09:00"))


def test_a_late_step_inside_a_dossier_finished_early(officers, version):
    dossier = walk_in(officers, version, vn("2026-03-02 08:00"))
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 08:00"))
    steps = {s.task_id: s for s in dossier.steps.all()}
    assert steps["process"].due_at == vn("2026-03-05 08:00")  # 3 working days
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process", at=vn("2026-03-05 10:00"))
    services.attach_result(dossier.pk, officer=officers["specialist"], file=None, at=vn("2026-03-05 10:05"))
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review", at=vn("2026-03-05 14:00"))
    dossier = services.approve_and_sign(dossier.pk, officer=officers["leader"], task_id="approve",
                                        at=vn("2026-03-06 09:00"))
    steps = {s.task_id: s for s in dossier.steps.all()}
    assert steps["review"].due_at == vn("2026-03-06 10:00")
    assert steps["approve"].due_at == vn("2026-03-06 14:00")
    assert [(s.task_id, s.verdict) for s in dossier.steps.order_by("started_at", "id")] == [
        ("process", "late"), ("review", "early"), ("approve", "on_time")]
    assert dossier.status == Status.RESULT_READY
    assert dossier.finished_at == vn("2026-03-06 09:00")
    from egov.dossiers import queries

    assert queries.clock(dossier).verdict == "early"  # appointment 2026-03-09 08:00
