"""Organisation codes (Decision 20/2020, DDD.CC.BB.XNN) and office hours: pure rules."""
from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.registries import rules
from egov.registries.rules import InvalidCode, check_child_code, parse_code


@pytest.mark.parametrize(("code", "level", "parent"), [
    ("000.00.00.H29", 1, None),
    ("000.00.00.G22", 1, None),
    ("000.00.18.G12", 2, "000.00.00.G12"),
    ("000.05.18.G12", 3, "000.00.18.G12"),
    ("123.05.18.G12", 4, "000.05.18.G12"),
    (" 000.00.14.h20 ", 2, "000.00.00.H20"),  # spaces and a lower-case letter are normalised
])
def test_valid_codes(code, level, parent):
    parsed = parse_code(code)
    assert parsed.level == level
    assert (str(parsed.parent) if parsed.parent else None) == parent


@pytest.mark.parametrize(("code", "message"), [
    ("", "Enter an organisation code"),
    ("000.00.H29", "four parts separated by dots"),
    ("000.00.00.00.H29", "has 5"),
    ("000.00.00.X29", "The last part (level 1) must be G or H followed by two digits"),
    ("000.00.00.H2", "got “H2”"),
    ("000.00.00.H2a", "The last part (level 1)"),
    ("000.00.1.G12", "The third part (level 2) must be exactly two digits; got “1”"),
    ("000.0a.18.G12", "The second part (level 3) must be exactly two digits"),
    ("00.00.18.G12", "The first part (level 4) must be exactly three digits; got “00”"),
    ("000.05.00.G12", "A level-3 unit (second part 05) needs a level-2 unit"),
    ("001.00.18.G12", "A level-4 unit (first part 001) needs level-2 and level-3 units"),
    ("000.00.١٢.G12", "The third part (level 2) must be exactly two digits"),  # non-ASCII digits are refused
])
def test_invalid_codes_say_what_is_wrong(code, message):
    with pytest.raises(InvalidCode) as caught:
        parse_code(code)
    assert message in str(caught.value)


@pytest.mark.parametrize(("child", "parent"), [
    ("000.00.18.G12", "000.00.00.G12"),
    ("000.05.18.G12", "000.00.18.G12"),
    ("000.05.18.G12", "000.00.00.G12"),  # two levels down still extends
])
def test_child_extends_parent(child, parent):
    check_child_code(child, parent)


@pytest.mark.parametrize(("child", "parent", "message"), [
    ("000.00.18.G13", "000.00.00.G12", "must have a code ending in .G12"),
    ("000.05.19.G12", "000.00.18.G12", "must have a code ending in .18.G12"),
    ("000.00.00.G12", "000.00.00.G12", "cannot be under 000.00.00.G12"),
    ("000.00.00.G12", "000.00.18.G12", "a child's code must be at a deeper level than its parent's"),
])
def test_child_that_does_not_extend_its_parent(child, parent, message):
    with pytest.raises(InvalidCode) as caught:
        check_child_code(child, parent)
    assert message in str(caught.value)


level1 = st.builds(lambda letter, n: f"{letter}{n:02d}", st.sampled_from("GH"), st.integers(0, 99))
@st.composite
def codes(draw):
    """Valid codes of any level: deeper parts are set only when the higher ones are."""
    l1 = draw(level1)
    l2 = draw(st.integers(0, 99))
    l3 = draw(st.integers(1, 99)) if l2 and draw(st.booleans()) else 0
    l4 = draw(st.integers(1, 999)) if l3 and draw(st.booleans()) else 0
    return f"{l4:03d}.{l3:02d}.{l2:02d}.{l1}"


@given(codes())
def test_valid_codes_round_trip(code):
    assert str(parse_code(code)) == code


@given(codes())
def test_every_unit_extends_its_parent(code):
    parsed = parse_code(code)
    if parsed.parent is None:
        assert parsed.level == 1
    else:
        assert parsed.parent.level == parsed.level - 1
        check_child_code(code, str(parsed.parent))  # does not raise


@given(st.text(max_size=20))
def test_any_text_is_either_a_code_or_a_specific_error(text):
    try:
        parse_code(text)
    except InvalidCode as exc:
        assert str(exc)  # a message, never another exception type


def test_office_hours_in_order():
    rules.check_office_hours(time(7, 30), time(11, 30), time(13), time(17))
    rules.check_office_hours(time(8), time(12), time(12), time(16, 30))  # no lunch break is allowed


@pytest.mark.parametrize(("hours", "field"), [
    ((time(11, 30), time(7, 30), time(13), time(17)), "morning_closes"),
    ((time(7, 30), time(11, 30), time(11), time(17)), "afternoon_opens"),
    ((time(7, 30), time(11, 30), time(13), time(13)), "afternoon_closes"),
])
def test_office_hours_out_of_order(hours, field):
    with pytest.raises(rules.InvalidOfficeHours) as caught:
        rules.check_office_hours(*hours)
    assert caught.value.field == field


@pytest.mark.parametrize("property_schema", [True, 3, {"type": "object"}, {"type": "array"}, {}])
def test_a_searchable_field_must_be_a_plain_value(property_schema):
    from egov.registries.rules import InvalidDefinition, check_registry_definition

    with pytest.raises(InvalidDefinition) as refused:
        check_registry_definition("ho-kinh-doanh", "1.0", {"type": "object", "properties": {"x": property_schema}}, ["x"])
    assert refused.value.field == "searchable_fields"


@pytest.mark.parametrize(("code", "version", "field"), [
    ("Ho Kinh Doanh", "1.0", "code"), ("population", "1.0", "code"), ("ho-kinh-doanh", "v1", "version"),
])
def test_a_registry_definition_names_the_field_it_gets_wrong(code, version, field):
    from egov.registries.rules import InvalidDefinition, check_registry_definition

    with pytest.raises(InvalidDefinition) as refused:
        check_registry_definition(code, version, {"type": "object", "properties": {"x": {"type": "string"}}}, [])
    assert refused.value.field == field
