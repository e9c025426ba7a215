# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""What every e-form refuses whatever its schema allows, on the web form and in the service (an API client, a stale
draft): a personal ID number that breaks the registry's rules or is of the wrong sex for its field, control
characters, an answer too long to be one."""
import pytest
from django import forms

from egov.dossiers import services
from egov.dossiers.forms import schema_field
from tests.dossiers.conftest import english  # noqa: F401

SCHEMA = {"type": "object", "properties": {
    "father_pin": {"type": "string", "pattern": "^\\d{12}$"}, "mother_pin": {"type": "string", "pattern": "^\\d{12}$"},
    "note": {"type": "string"}}}
UI = {"father_pin": {"label": "Cha", "widget": "pin", "sex": "male"},
      "mother_pin": {"label": "Mẹ", "widget": "pin", "sex": "female"}}
FATHER, MOTHER = "079099000123", "079303001234"  # 4th digit 0: a man born 1900-1999; 3: a woman born 2000-2099


def refused(data) -> dict:
    with pytest.raises(services.InvalidInput) as caught:
        services.check_form_data(SCHEMA, data, UI)
    return caught.value.message_dict


def test_the_parents_numbers_of_the_right_sex_are_accepted(english):
    services.check_form_data(SCHEMA, {"father_pin": FATHER, "mother_pin": MOTHER, "note": "Dòng 1\nDòng 2\tx"}, UI)


def test_a_number_whose_place_code_is_no_province_is_refused(english):
    assert refused({"father_pin": "999199000001"}) == {"form.father_pin": [
        "Digits 1-3 must be the code of the province where the birth was registered (001-096); 999 is not a "
        "province code."]}


def test_the_mothers_number_typed_as_the_fathers_is_refused(english):
    assert refused({"father_pin": MOTHER, "mother_pin": MOTHER}) == {
        "form.father_pin": ["Digit 4 (3) is a woman's: this field takes a man's number."]}
    assert refused({"mother_pin": FATHER}) == {
        "form.mother_pin": ["Digit 4 (0) is a man's: this field takes a woman's number."]}


@pytest.mark.parametrize("text", ["abc\x00def", "đỏ\x1b[31m", "x\x7f"])
def test_control_characters_are_refused(english, text):
    assert refused({"note": text}) == {"form.note": ["Remove the control characters from this answer."]}


def test_an_answer_longer_than_any_form_needs_is_refused_with_its_length(english):
    assert refused({"note": "x" * 100_000}) == {
        "form.note": ["Write at most 10,000 characters here (this answer has 100,000)."]}


def test_the_web_field_checks_the_same_rules_and_says_the_12_digits_first():
    field = schema_field("father_pin", SCHEMA["properties"]["father_pin"], UI["father_pin"], required=True)
    assert field.clean(FATHER) == FATHER
    for typed, code in (("12345", "invalid"), (MOTHER, "personal_id"), ("999199000001", "personal_id")):
        with pytest.raises(forms.ValidationError) as caught:
            field.clean(typed)
        assert [error.code for error in caught.value.error_list] == [code], typed


@pytest.mark.parametrize("typed, message", [
    ("31/02/2026", "31/02/2026 is not a date that exists: check the day and the month."),
    ("29-02-2025", "29-02-2025 is not a date that exists: check the day and the month."),
    ("2026/02/01", "Enter the date as day/month/year, e.g. 17/05/2003."),
    ("ngày mai", "Enter the date as day/month/year, e.g. 17/05/2003.")])
def test_a_date_that_no_calendar_has_is_told_apart_from_one_typed_in_another_form(english, typed, message):
    from egov.dossiers.forms import date_field

    with pytest.raises(forms.ValidationError) as caught:
        date_field("Ngày sinh", required=True).clean(typed)
    assert caught.value.messages == [message]
