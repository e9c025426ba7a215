"""Demo dossiers (hồ sơ dùng thử): a handful at the demo officers' agency, in different statuses, so the inbox, the
clock and the forms can be tried at once: received (2); being processed with the specialist's draft result (4);
waiting for a supplement (5); and two whose result went the legal road, a draft, the steps, then the last step approved
and the result signed by its approver at once, one ready (9) and one delivered at the desk (10). Fictional applicants;
created through the services like real ones (every move is in the ledger). Idempotent: nothing is created when the
agency already has dossiers."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from egov.dossiers import services
from egov.dossiers.models import Dossier, Status

APPLICANTS = (
    {"full_name": "Trần Minh Khoa", "id_number": "079090001234", "date_of_birth": dt.date(1990, 4, 12),
     "phone": "0908111222", "email": "", "address": "45 Nguyễn Huệ, Phường Sài Gòn"},
    {"full_name": "Lê Thị Mai", "id_number": "079185004321", "date_of_birth": dt.date(1985, 9, 3),
     "phone": "0912333444", "email": "", "address": "8 Lý Tự Trọng, Phường Bến Thành"},
    {"full_name": "Phạm Quốc Bảo", "id_number": "079201007777", "date_of_birth": dt.date(2001, 1, 25),
     "phone": "0937555666", "email": "", "address": "120 Pasteur, Phường Sài Gòn"},
    {"full_name": "Nguyễn Thu Hằng", "id_number": "079195002468", "date_of_birth": dt.date(1995, 6, 30),
     "phone": "0977888999", "email": "", "address": "3 Hai Bà Trưng, Phường Sài Gòn"},
    {"full_name": "Võ Thanh Tùng", "id_number": "079088003579", "date_of_birth": dt.date(1988, 11, 2),
     "phone": "0988123456", "email": "", "address": "27 Đồng Khởi, Phường Sài Gòn"},
)
ROLES = {"desk_officer": "desk", "specialist": "specialist", "head_of_unit": "head", "agency_leader": "leader"}


def _sample_answers(schema: dict) -> dict:
    """Answers that satisfy the e-form's required fields (enough for a demo dossier)."""
    answers = {}
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        spec = properties.get(name, {})
        if "enum" in spec:
            answers[name] = spec["enum"][0]
        elif spec.get("type") == "integer" or spec.get("type") == "number":
            answers[name] = max(1, int(spec.get("minimum", 1)))
        elif spec.get("type") == "boolean":
            answers[name] = True
        elif spec.get("format") == "date":
            answers[name] = "2026-01-15"
        elif spec.get("format") == "email":
            answers[name] = "demo@example.org"
        else:
            answers[name] = "Hồ sơ dùng thử"[: spec.get("maxLength", 100)].ljust(spec.get("minLength", 0), ".")
    return answers


def load_demo_dossiers(agency, officers: dict, versions: list) -> int:
    """Create the demo dossiers at ``agency`` unless it has some; ``officers`` maps desk/specialist/head/leader to
    demo accounts; ``versions`` are the procedure versions in force there. Returns how many were created."""
    if not versions or Dossier.objects.filter(receiving_agency=agency).exists():
        return 0
    if any(officers.get(role) is None for role in ("desk", "specialist", "head", "leader")):
        return 0
    now = timezone.now()
    # The dossiers that reach their result go through the steps to the approval: a procedure without an effect on a
    # registry (a birth registration needs a real child's details).
    plain = [v for v in versions if not v.registry_effect] or versions
    created = 0
    with transaction.atomic():
        for index, applicant in enumerate(APPLICANTS):
            pool = plain if index >= 3 else versions
            version = pool[index % len(pool)]
            at = now - dt.timedelta(days=7 - index)
            dossier = services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                              applicant=applicant, subject=None,
                                              form_data=_sample_answers(version.form_schema), files=[], at=at)
            created += 1
            if index >= 1:
                services.transfer(dossier.pk, officer=officers["desk"], at=at + dt.timedelta(minutes=30))
            if index == 1:
                services.save_draft_result(dossier.pk, officer=officers["specialist"], file=None,
                                           at=at + dt.timedelta(hours=1))
            if index == 2:
                services.request_supplement(dossier.pk, officer=officers["specialist"],
                                            missing=["Bản sao giấy khai sinh", "Ảnh 4x6 chụp trong 6 tháng gần đây"],
                                            at=at + dt.timedelta(hours=2))
            if index >= 3 and _draft_approve_and_sign(dossier, officers, at + dt.timedelta(hours=1)) and index == 4:
                services.deliver(dossier.pk, officer=officers["desk"], method="desk", at=at + dt.timedelta(hours=6))
    return created


def _draft_approve_and_sign(dossier, officers: dict, at: dt.datetime) -> bool:
    """The legal road to the result: the specialist saves a draft generated from the template, each step is
    completed by an officer of its role, and the last one approves and signs the result at once. True when the
    dossier's result is ready (a process with a role the demo has no officer for stops where it is)."""
    services.save_draft_result(dossier.pk, officer=officers["specialist"], file=None, at=at)
    for _ in range(20):  # a procedure's process has a handful of steps
        dossier.refresh_from_db()
        step = dossier.steps.filter(completed_at__isnull=True).order_by("started_at", "id").first()
        officer = officers.get(ROLES.get(step.role, "")) if step is not None else None
        if officer is None:
            break
        at += dt.timedelta(minutes=40)
        if services.approval_ends_processing(dossier, step.task_id):
            try:
                services.approve_and_sign(dossier.pk, officer=officer, task_id=step.task_id, at=at)
            except services.SigningFailed:
                break  # approved, the result waits to be signed: a state the demo may show too
        else:
            services.complete_step(dossier.pk, officer=officer, task_id=step.task_id, at=at)
    dossier.refresh_from_db()
    return dossier.status == Status.RESULT_READY


def load_for_demo_officers() -> str:
    """`egov seed --demo`: demo dossiers at the demo officers' agency; returns one summary line."""
    from egov.accounts.demo import demo_agency
    from egov.accounts.models import User
    from egov.procedures.queries import versions_in_force

    agency = demo_agency()
    if agency is None:
        return "Demo dossiers: no demo agency."
    usernames = {"desk": "demo.desk", "specialist": "demo.specialist", "head": "demo.head", "leader": "demo.leader"}
    users = {u.username: u for u in User.objects.filter(username__in=usernames.values(), agency=agency)}
    officers = {role: users.get(name) for role, name in usernames.items()}
    versions = list(versions_in_force(timezone.localdate(), agency=agency))
    created = load_demo_dossiers(agency, officers, versions)
    return (f"Demo dossiers at {agency.code}: {created} created." if created
            else f"Demo dossiers at {agency.code}: already present (or no procedure there).")
