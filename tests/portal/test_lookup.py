# ruff: noqa: F811  (fixtures imported from tests/dossiers/conftest.py are used as test arguments)
"""The public dossier look-up (``/lookup/``) reads a personal ID number as people type it: spaces, dots and dashes
between the digits are separators; anything else is refused with a message saying what, and what was typed stays."""
import pytest

from egov.dossiers import services
from egov.dossiers.models import Channel
from tests.dossiers.conftest import (  # noqa: F401  (fixtures)
    APPLICANT, agency, calendar_2026, english, officers, pdf_file, version)


@pytest.fixture
def dossier(officers, version, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=Channel.IN_PERSON,
                                   applicant=dict(APPLICANT), subject=None, form_data={"purpose": "Xin việc làm"},
                                   files=[("to_khai", pdf_file())])


@pytest.mark.parametrize("typed", ["0360 7200 4321", "036.072.004.321", "036-072-004-321", " 036 072 004 321 ",
                                   "0 3 6 0 7 2 0 0 4 3 2 1"])
def test_an_id_number_typed_with_separators_finds_the_dossier(client, dossier, english, typed):
    response = client.post("/lookup/", {"code": dossier.code, "id_number": typed})
    assert response.status_code == 200 and "Received" in response.content.decode()


@pytest.mark.parametrize(("typed", "message"), [
    ("0360 7200 432a", "A personal ID number has 12 digits. Only spaces, dots or dashes may stand between them, "
                       "not “a”."),
    ("0360/7200/4321", "A personal ID number has 12 digits. Only spaces, dots or dashes may stand between them, "
                       "not “/”."),
    ("0360 7200 432", "A personal ID number has 12 digits; this one has 11."),
    ("0360 7200 43210", "A personal ID number has 12 digits; this one has 13."),
    ("-- ..", "Enter the applicant&#x27;s personal ID number."),
    ("0" * 31, "This is too long for a personal ID number of 12 digits."),
])
def test_an_id_number_that_cannot_be_one_is_refused_saying_why_and_kept(client, dossier, english, typed, message):
    response = client.post("/lookup/", {"code": dossier.code, "id_number": typed})
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert f'value="{typed}"' in page.replace("&quot;", '"')  # what was typed is in the field again
