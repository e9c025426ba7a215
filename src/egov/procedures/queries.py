"""Reads of the procedure catalogue: which version is in force on a day, for a procedure or for an agency."""
from __future__ import annotations

import datetime as dt

from django.db.models import Max, OuterRef, Subquery

from egov.procedures.models import Procedure, ProcedureVersion


def procedure_by_code(code: str) -> Procedure | None:
    """Thủ tục by its national code (``1.001193``), or None."""
    return Procedure.objects.filter(code=(code or "").strip()).first()


def version_in_force(procedure: Procedure, on: dt.date) -> ProcedureVersion | None:
    """The version in force on ``on``: the latest one effective on or before that day (None before the first)."""
    return (ProcedureVersion.objects.filter(procedure=procedure, effective_from__lte=on)
            .select_related("procedure").order_by("-effective_from").first())


def versions_in_force(on: dt.date, *, agency=None) -> list[ProcedureVersion]:
    """The current version of every procedure on ``on`` (of every procedure ``agency`` implements in that version,
    when given), ordered by procedure code. One query, whatever the catalogue's size."""
    latest = (ProcedureVersion.objects.filter(procedure=OuterRef("procedure"), effective_from__lte=on)
              .order_by("-effective_from").values("effective_from")[:1])
    versions = (ProcedureVersion.objects.filter(effective_from__lte=on)
                .filter(effective_from=Subquery(latest)).select_related("procedure"))
    if agency is not None:
        versions = versions.filter(agencies=agency)
    return list(versions.order_by("procedure__code"))


def latest_version_number(procedure: Procedure) -> int:
    return procedure.versions.aggregate(number=Max("version"))["number"] or 0
