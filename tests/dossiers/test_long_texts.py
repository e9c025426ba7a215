# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""What an officer or an applicant writes (reasons, notes, missing items) is printed on the forms and kept in the
history: a text over its limit is refused with the limit and its length, and the page keeps it; nothing is cut
without telling, and the line breaks the writer made are kept."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.dossiers import rules, services
from egov.dossiers.models import Status, Transition
from tests.dossiers.conftest import PDF, agency, calendar_2026, citizen, english, officers, signed_in, version  # noqa: F401
from tests.dossiers.test_services import online
from tests.dossiers.test_views import media  # noqa: F401

LONG = "Line one.\n\n" + "Detail " * 600  # 4,211 characters


def test_a_reason_keeps_its_line_breaks(english, citizen, agency, version):
    dossier = online(citizen, version, agency)
    services.request_withdrawal(dossier.pk, user=citizen, reason="  Không còn   nhu cầu.\n\n\n\nĐã nộp nơi khác.  ")
    assert Transition.objects.filter(dossier=dossier).last().note == "Không còn nhu cầu.\n\nĐã nộp nơi khác."


def test_a_reason_over_the_limit_is_refused_not_cut(english, citizen, agency, version):
    dossier = online(citizen, version, agency)
    with pytest.raises(services.InvalidInput) as caught:
        services.request_withdrawal(dossier.pk, user=citizen, reason=LONG)
    assert caught.value.message_dict == {"reason": [
        f"Write at most 2,000 characters (this text has {len(LONG.strip()):,})."]}


def test_a_missing_item_over_its_line_limit_is_refused_with_its_line(english, citizen, agency, version, officers):
    dossier = online(citizen, version, agency)
    with pytest.raises(services.InvalidInput) as caught:
        services.request_supplement(dossier.pk, officer=officers["desk"], missing=["Ảnh 4x6", "x" * 501])
    assert caught.value.message_dict == {"missing": [
        "Each line may have at most 500 characters; line 2 has 501."]}
    with pytest.raises(services.InvalidInput):
        services.request_supplement(dossier.pk, officer=officers["desk"], missing=["Ảnh 4x6"],
                                    note="x" * (rules.TEXT_MAX_CHARS + 1))
    assert services.request_supplement(dossier.pk, officer=officers["desk"], missing=["Ảnh 4x6"],
                                       note="x" * rules.TEXT_MAX_CHARS).status == Status.SUPPLEMENT_REQUESTED


def test_the_withdrawal_page_refuses_a_long_reason_and_keeps_it(client, citizen, agency, version, media):
    dossier = online(citizen, version, agency)
    signed_in(client, citizen)
    response = client.post(f"/dossiers/{dossier.code}/withdraw/", {"withdraw-reason": LONG})
    page = response.content.decode()
    assert response.status_code == 400 and "at most 2000 characters" in page and "Detail Detail" in page
    assert 'maxlength="2000"' in page
    assert dossier.transitions.count() == 1  # only the submission


def test_too_many_supplement_files_are_refused_beside_the_field_and_the_note_is_kept(client, citizen, officers, agency,
                                                                                   version, media):
    dossier = online(citizen, version, agency)
    services.request_supplement(dossier.pk, officer=officers["desk"], missing=["Bản scan sổ hộ khẩu"])
    signed_in(client, citizen)
    files = [SimpleUploadedFile(f"trang-{n}.pdf", PDF) for n in range(101)]  # a scan chosen page by page
    response = client.post(f"/dossiers/{dossier.code}/supply/", {"supply-files": files, "supply-note": "Sổ hộ khẩu"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose at most 30 files (you chose 101): put the pages of one document in one PDF." in page
    assert "Sổ hộ khẩu</textarea>" in page
    dossier.refresh_from_db()
    assert dossier.status == Status.SUPPLEMENT_REQUESTED
