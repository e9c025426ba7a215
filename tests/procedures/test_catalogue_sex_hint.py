"""The ``sex`` hint of a personal ID field (``male`` or ``female``): the father's, the wife's… number must be one of a
man or of a woman; it only changes what a future application is asked, like ``remember``."""
import pytest

from egov.procedures.catalogue import CatalogueErrors, parse_catalogue
from egov.procedures.services import _without_future_marks
from tests.procedures.test_catalogue_errors import EFORM

WITH_PIN = EFORM.replace("            child_full_name: {type: string}\n",
                         "            child_full_name: {type: string}\n"
                         "            father_pin: {type: string, pattern: \"^\\\\d{12}$\"}\n")
assert WITH_PIN != EFORM


def with_hint(hint: str) -> str:
    return WITH_PIN.replace("        online_level: full\n", "        ui_schema:\n          father_pin: "
                            f"{{label: Số định danh của cha, widget: pin, sex: {hint}}}\n        online_level: full\n")


def test_the_sex_of_a_personal_id_field_is_male_or_female(tmp_path):
    version = parse_catalogue(with_hint("male"), source="good.yaml", base_dir=tmp_path).procedures[0].versions[0]
    assert version.ui_schema["father_pin"]["sex"] == "male"
    with pytest.raises(CatalogueErrors) as caught:
        parse_catalogue(with_hint("man"), source="bad.yaml", base_dir=tmp_path)
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("procedures[0].versions[0].ui_schema.father_pin.sex", "unknown sex “man”: use one of “male”, “female”")]


def test_the_sex_hint_is_a_mark_for_future_applications_only():
    before = {"father_pin": {"label": "Cha", "widget": "pin", "remember": True}}
    after = {"father_pin": {"label": "Cha", "widget": "pin", "remember": True, "sex": "male"}}
    assert _without_future_marks("ui_schema", before) == _without_future_marks("ui_schema", after)
