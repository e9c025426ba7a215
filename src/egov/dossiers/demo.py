"""Demo dossiers (hồ sơ dùng thử): a handful at the demo officers' agency, in different statuses, so the inbox, the
clock and the forms can be tried at once. Fictional applicants; created through the services like real ones (every
move is in the ledger). Idempotent: nothing is created when the agency already has dossiers."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from egov.dossiers import services
from egov.dossiers.models import Dossier

APPLICANTS = (
    {"full_name": "Trần Minh Khoa", "id_number": "079090001234", "date_of_birth": dt.date(1990, 4, 12),
     "phone": "0908111222", "email": "", "address": "45 Nguyễn Huệ, Phường Sài Gòn"},
    {"full_name": "Lê Thị Mai", "id_number": "079185004321", "date_of_birth": dt.date(1985, 9, 3),
     "phone": "0912333444", "email": "", "address": "8 Lý Tự Trọng, Phường Bến Thành"},
    {"full_name": "Phạm Quốc Bảo", "id_number": "079201007777", "date_of_birth": dt.date(2001, 1, 25),
     "phone": "0937555666", "email": "", "address": "120 Pasteur, Phường Sài Gòn"},
    {"full_name": "Nguyễn Thu Hằng", "id_number": "079195002468", "date_of_birth": dt.date(1995, 6, 30),
     "phone": "0977888999", "email": "", "address": "3 Hai Bà Trưng, Phường Sài Gòn"},
)


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
    created = 0
    with transaction.atomic():
        for index, applicant in enumerate(APPLICANTS):
            version = versions[index % len(versions)]
            at = now - dt.timedelta(days=6 - index)
            dossier = services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                              applicant=applicant, subject=None,
                                              form_data=_sample_answers(version.form_schema), files=[], at=at)
            created += 1
            if index >= 1:
                services.transfer(dossier.pk, officer=officers["desk"], at=at + dt.timedelta(minutes=30))
            if index == 2:
                services.request_supplement(dossier.pk, officer=officers["specialist"],
                                            missing=["Bản sao giấy khai sinh", "Ảnh 4x6 chụp trong 6 tháng gần đây"],
                                            at=at + dt.timedelta(hours=2))
            if index == 3:
                services.attach_result(dossier.pk, officer=officers["specialist"], file=None,
                                       at=at + dt.timedelta(hours=3))
    return created
