# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""Prefill from the applicant's data store: a field the catalogue marks ``remember`` (a fact that stays true from one
application to the next) takes the applicant's answer in their newest earlier dossier of the same procedure, where the
population registry fills nothing; the step says which dossier it came from."""
import pytest

from egov.dossiers import services as dossier_services
from egov.portal import apply_services
from tests.dossiers.conftest import (agency, calendar_2026, citizen, make_version, other_citizen, pdf_file,  # noqa: F401
                                     signed_in)
from tests.portal.test_apply import BIRTH_SCHEMA, BIRTH_UI, mother, start, step_url  # noqa: F401

SCHEMA = {**BIRTH_SCHEMA, "properties": {**BIRTH_SCHEMA["properties"],
                                         "father_full_name": {"type": "string", "maxLength": 100},
                                         "father_pin": {"type": "string", "pattern": "^\\d{12}$"}}}
UI = {**BIRTH_UI, "ui:order": [*BIRTH_UI["ui:order"][:5], "father_full_name", "father_pin", "copies", "relationship"],
      "father_full_name": {"label": "Father's full name", "remember": True},
      "father_pin": {"label": "Father's ID number", "widget": "pin", "remember": True},
      "child_full_name": {"label": "Child's full name"}}
FIRST_CHILD = {"child_full_name": "Đỗ Minh An", "child_birth_date": "2024-03-02", "mother_full_name": "Đỗ Thị Hà",
               "mother_pin": "079303001234", "father_full_name": "Trần Văn Bình", "father_pin": "079090004321",
               "relationship": "me"}


@pytest.fixture
def birth(agency, calendar_2026):  # noqa: F811
    version = make_version(agency, code="1.001193", components=[], ui_schema=UI)
    version.form_schema = SCHEMA
    version.save()
    return version


def file_online(user, version, form_data):
    return dossier_services.submit_online(applicant_user=user, procedure_version=version, agency=version.agencies.get(),
                                          form_data=form_data, files=[])


def test_a_second_childs_application_takes_the_father_from_the_first_one(client, mother, birth):
    first = file_online(mother, birth, FIRST_CHILD)
    signed_in(client, mother)
    draft, _ = start(client)
    raw = draft.content()["raw"]
    assert raw["father_full_name"] == "Trần Văn Bình" and raw["father_pin"] == "079090004321"
    assert raw["mother_full_name"] == "Đỗ Thị Hà"  # from the registry, as before
    assert "child_full_name" not in raw and "child_birth_date" not in raw  # not marked: a new child, new answers
    page = client.get(step_url(draft, "form-1")).content.decode()
    assert f"Filled in from your application {first.code} of" in page
    assert "check that these are still right:\n  Father&#x27;s full name.</p>" in page  # the step's own
    assert 'value="Trần Văn Bình"' in page
    page = client.get(step_url(draft, "form-2")).content.decode()
    assert "check that these are still right:\n  Father&#x27;s ID number.</p>" in page
    client.post(step_url(draft, "form-1"), {"form_child_full_name": "Đỗ Minh Châu", "continue": "1"})
    assert "Filled in from your application" not in client.get(step_url(draft, "subject")).content.decode()


def test_the_newest_earlier_dossier_is_the_one_remembered(mother, birth):
    file_online(mother, birth, FIRST_CHILD)
    newer = file_online(mother, birth, {**FIRST_CHILD, "child_full_name": "Đỗ Minh Châu",
                                        "father_full_name": "Trần Văn Bình Minh"})
    values, source = apply_services.remembered(mother, birth, filled={})
    assert values["father_full_name"] == "Trần Văn Bình Minh" and source["code"] == newer.code


def test_the_registry_wins_over_the_remembered_answer(mother, birth):
    file_online(mother, birth, {**FIRST_CHILD, "father_pin": "079090004321"})
    values, source = apply_services.remembered(mother, birth, filled={"father_pin": "079090009999"})
    assert "father_pin" not in values and source["fields"] == ["father_full_name"]


def test_only_the_applicants_own_dossiers_of_the_same_procedure_are_remembered(mother, other_citizen, birth, agency):
    other_procedure = make_version(agency, code="1.000894", components=[], ui_schema=UI)
    other_procedure.form_schema = SCHEMA
    other_procedure.save()
    file_online(other_citizen, birth, FIRST_CHILD)     # someone else's
    file_online(mother, other_procedure, FIRST_CHILD)  # another procedure
    assert apply_services.remembered(mother, birth, filled={}) == ({}, {})


def test_nothing_is_remembered_without_the_catalogues_mark(mother, birth):
    file_online(mother, birth, FIRST_CHILD)
    birth.ui_schema = BIRTH_UI
    birth.save()
    assert apply_services.remembered(mother, birth, filled={}) == ({}, {})
