"""Fixtures of the procedure catalogue tests."""
import pytest

from egov.registries.demo import DEMO_AGENCIES


@pytest.fixture(autouse=True)
def english_messages():
    """These tests read the English source messages."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def demo_agencies(db):
    """The demo agencies (without their administrative units, which the catalogue does not need)."""
    from egov.registries.models import Agency

    agencies = {}
    for spec in DEMO_AGENCIES:  # parents come first
        agencies[spec.code] = Agency.objects.create(code=spec.code, name=spec.name, name_en=spec.name_en,
                                                    parent=agencies.get(spec.parent))
    return agencies
