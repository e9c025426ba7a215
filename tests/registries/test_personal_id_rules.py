"""The personal identification number (số định danh cá nhân): 12 digits, every rule named when broken."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.registries import rules
from egov.registries.rules import InvalidPersonalId, Sex


@pytest.mark.parametrize(("number", "province", "sex", "century"), [
    ("001099012345", "001", Sex.MALE, 1900),      # Hà Nội, male, 1999 (DOMAIN.md's example)
    ("079303012345", "079", Sex.FEMALE, 2000),    # Hồ Chí Minh City, female, 2003
    ("096400000001", "096", Sex.MALE, 2100),
])
def test_a_number_says_where_the_birth_was_registered_the_sex_and_the_century(number, province, sex, century):
    pid = rules.parse_personal_id(number)
    assert (pid.province_code, pid.sex, pid.century_start) == (province, sex, century)


@pytest.mark.parametrize(("number", "rule"), [
    ("", "required"),
    ("00109901234a", "digits"),
    ("00109901234", "length"),
    ("0010990123456", "length"),
    ("003099012345", "province"),   # 003 was never a province code
    ("097099012345", "province"),
    ("999199000001", "province"),   # the demo audit's number: 999 is neither a province nor any place code
])
def test_each_malformed_number_names_the_rule_it_breaks(number, rule):
    with pytest.raises(InvalidPersonalId) as refused:
        rules.parse_personal_id(number)
    assert refused.value.rule == rule


def test_spaces_typed_inside_the_number_are_ignored():
    assert rules.parse_personal_id(" 001 099 012 345 ").number == "001099012345"


def test_a_number_inconsistent_with_the_birth_year_is_an_error():
    with pytest.raises(InvalidPersonalId) as refused:
        rules.check_personal_id("001099012345", date_of_birth=date(1998, 1, 1), sex=Sex.MALE)
    assert refused.value.rule == "birth_year"
    assert "Digits 5-6 (99)" in str(refused.value)


def test_a_number_of_another_century_is_an_error():
    with pytest.raises(InvalidPersonalId) as refused:
        rules.check_personal_id("001099012345", date_of_birth=date(2099, 1, 1), sex=Sex.MALE)
    assert refused.value.rule == "century"


def test_a_number_of_the_other_sex_is_an_error():
    with pytest.raises(InvalidPersonalId) as refused:
        rules.check_personal_id("001099012345", date_of_birth=date(1999, 1, 1), sex=Sex.FEMALE)
    assert refused.value.rule == "sex"


def test_every_pre_2025_province_code_stays_valid_and_the_34_new_ones_are_among_them():
    assert len(rules.PIN_PROVINCE_CODES) == 63
    new_provinces = "01 04 08 11 12 14 15 19 20 22 24 25 31 33 37 38 40 42 44 46 48 51 52 56 66 68 75 79 80 82 86 91 92 96"
    assert {f"0{code}" for code in new_provinces.split()} <= rules.PIN_PROVINCE_CODES


def test_the_province_codes_are_the_legacy_provinces_of_the_pinned_package(db):
    from egov.registries import services
    from egov.registries.models import AdministrativeUnit

    services.load_administrative_units()
    legacy = set(AdministrativeUnit.objects.filter(generation="legacy", level="province").values_list("code", flat=True))
    assert {f"0{code}" for code in legacy} == rules.PIN_PROVINCE_CODES


births = st.dates(min_value=date(1900, 1, 1), max_value=date(2399, 12, 31))


@given(province=st.sampled_from(sorted(rules.PIN_PROVINCE_CODES)), born=births, sex=st.sampled_from(Sex.values),
       random_part=st.integers(0, 999_999))
def test_a_composed_number_is_valid_and_encodes_what_it_was_composed_from(province, born, sex, random_part):
    number = rules.compose_personal_id(province, born, sex, random_part)
    pid = rules.check_personal_id(number, date_of_birth=born, sex=sex)
    assert len(number) == 12 and number.isdigit()
    assert pid.province_code == province and pid.sex == sex and pid.fits_year(born.year)
    assert number.endswith(f"{random_part:06d}")


@given(number=st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_parsing_any_twelve_digits_either_succeeds_or_names_the_province_rule(number):
    try:
        pid = rules.parse_personal_id(number)
    except InvalidPersonalId as exc:
        assert exc.rule == "province"
    else:
        assert pid.number == number


@given(number=st.text(max_size=20))
def test_parsing_never_fails_with_anything_but_a_named_rule(number):
    try:
        rules.parse_personal_id(number)
    except InvalidPersonalId as exc:
        assert exc.rule in {"required", "digits", "length", "province"}
