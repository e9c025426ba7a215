"""`egov seed`: reference data, then demo data; a second run changes nothing."""
import io

import pytest
from django.core.management import call_command

from egov.kernel.models import Event
from egov.registries.models import AdministrativeUnit, Agency, LegacyUnitMapping

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = io.StringIO()
    call_command("egov_seed", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    from django.contrib.auth import get_user_model

    return {
        "units": AdministrativeUnit.objects.count(),
        "mappings": LegacyUnitMapping.objects.count(),
        "agencies": sorted(Agency.objects.values_list("code", "name")),
        "users": sorted(get_user_model().objects.values_list("username", "role", "agency_id")),
        "events": Event.objects.count(),
    }


def test_seed_loads_reference_data_once():
    first = seed()
    assert "34 provinces and 3321 communes" in first and "(loaded)" in first
    assert "Working-day calendar" in first
    assert AdministrativeUnit.objects.filter(generation="2025").count() == 34 + 3321
    assert not Agency.objects.exists()  # no demo data without --demo
    before = snapshot()
    second = seed()
    assert "already up to date" in second
    assert snapshot() == before


def test_seed_demo_is_idempotent():
    first = seed("--demo")
    assert "Demo agencies: 16 created" in first
    assert Agency.objects.filter(code="000.00.00.G22").exists()
    before = snapshot()
    second = seed("--demo")
    assert "already up to date" in second and "Demo agencies: 0 created, 16 already present" in second
    after = snapshot()
    # Demo accounts are reset to their known state on each run (their own events aside), nothing else moves.
    assert {k: v for k, v in after.items() if k != "events"} == {k: v for k, v in before.items() if k != "events"}
    assert Event.objects.filter(event_type__in=["agency.created", "registries.units_loaded"]).count() == 16 + 1
