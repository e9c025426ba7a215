# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""Applying online, what the applicant typed and chose: kept across an expired session, a refused file's reason
shown whatever the button, the e-form's rules (pattern, commune, enum, date, bounds) checked at their own step with
the field named, the ID number of the person applied for checked against their date of birth; and the procedure
page's documents (a note said once, the blank form linked)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.dossiers.models import Dossier
from egov.kernel import crypto
from egov.portal import apply_views
from egov.portal.apply_forms import EFormStep, pattern_example
from egov.portal.apply_models import DraftFile
from egov.registries.models import AdministrativeUnit
from tests.dossiers.conftest import (PDF, agency, calendar_2026, citizen, english, make_version,  # noqa: F401
                                     other_citizen, pdf_file, signed_in)
from tests.portal.test_apply import STEP1, birth, fill_all, mother, png, start, step_url  # noqa: F401
from tests.portal.test_catalogue_search import catalogue  # noqa: F401

PASSWORD = "correct horse battery staple 7"


def sign_in_again(client, user, next_url):
    """Through the real sign-in page, as a browser does after its session expired."""
    user.set_password(PASSWORD)
    user.save()
    response = client.post(f"/accounts/login/?next={next_url}",
                           {"username": user.username, "password": PASSWORD, "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url, response.content.decode()[:2000]


def kept_in_session(client) -> dict:
    return client.session.get(apply_views.KEPT_SESSION_KEY) or {}


# --- Gap 1: a session that ends mid-step ---------------------------------------------------------------------------

def test_what_was_typed_when_the_session_had_ended_is_shown_again_after_signing_in(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    client.logout()  # the session ends while the applicant types
    typed = {**STEP1, "form_child_full_name": "Đỗ Minh Khôi", "csrfmiddlewaretoken": "not-kept", "continue": "1"}
    response = client.post(step_url(draft, "form-1"), typed)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    draft.refresh_from_db()
    assert "child_full_name" not in draft.content()["raw"]  # nothing written to the draft without a session
    entry = kept_in_session(client)[f"{draft.uid}/form-1"]
    assert "Đỗ Minh Khôi" not in str(entry)  # sealed in the session, never in clear
    values = crypto.open_json(entry["sealed"], apply_views._kept_aad(draft.uid, "form-1"))
    assert values["form_child_full_name"] == "Đỗ Minh Khôi"
    assert "csrfmiddlewaretoken" not in values and "continue" not in values

    sign_in_again(client, mother, step_url(draft, "form-1"))  # login() cycles the session key, keeps its data
    page = client.get(step_url(draft, "form-1")).content.decode()
    assert 'value="Đỗ Minh Khôi"' in page and 'value="02/03/2026"' in page
    assert "What you typed on this step before your session ended is shown again" in page
    draft.refresh_from_db()
    assert "child_full_name" not in draft.content()["raw"]  # shown, not saved until they press a button
    assert 'value="Đỗ Minh Khôi"' in client.get(step_url(draft, "form-1")).content.decode()  # a reload keeps it

    client.post(step_url(draft, "form-1"), {**STEP1, "form_child_full_name": "Đỗ Minh Khôi", "continue": "1"})
    draft.refresh_from_db()
    assert draft.content()["raw"]["child_full_name"] == "Đỗ Minh Khôi"
    assert kept_in_session(client) == {}  # the post replaced it


def test_another_user_signing_in_on_that_browser_does_not_see_what_was_typed(client, mother, other_citizen, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    client.logout()
    client.post(step_url(draft, "form-1"), {**STEP1, "form_child_full_name": "Đỗ Minh Khôi", "continue": "1"})
    sign_in_again(client, other_citizen, step_url(draft, "form-1"))
    response = client.get(step_url(draft, "form-1"))
    assert response.status_code == 404 and "Đỗ Minh Khôi" not in response.content.decode()
    assert kept_in_session(client) == {}  # dropped, not left for later
    signed_in(client, mother)
    assert "Đỗ Minh Khôi" not in client.get(step_url(draft, "form-1")).content.decode()


def test_a_file_sent_when_the_session_had_ended_must_be_chosen_again(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft, files=False)
    from django.contrib.sessions.models import Session

    Session.objects.all().delete()  # expired on the server: the browser still sends its old session cookie
    client.post(step_url(draft, "files-required"), {"file_TK": pdf_file(), "use_GCS": "", "continue": "1"})
    assert not DraftFile.objects.filter(draft=draft).exists()
    sign_in_again(client, mother, step_url(draft, "files-required"))
    page = client.get(step_url(draft, "files-required")).content.decode()
    assert "A file you chose then could not be kept: choose it again." in page
    assert "Only PDF" not in page and "Attach this document" not in page  # shown, not checked yet


def test_what_is_kept_without_a_session_is_bounded(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    client.logout()
    flood = {f"form_x{i}": "y" * 6000 for i in range(200)}
    response = client.post(step_url(draft, "form-1"), {**flood, "continue": "1"})
    assert response.status_code == 302
    entry = kept_in_session(client)[f"{draft.uid}/form-1"]
    values = crypto.open_json(entry["sealed"], apply_views._kept_aad(draft.uid, "form-1"))
    assert 0 < len(values) <= apply_views.KEPT_MAX_FIELDS
    assert all(len(value) <= apply_views.KEPT_MAX_VALUE for value in values.values())
    assert sum(len(value) for value in values.values()) <= apply_views.KEPT_MAX_TOTAL
    for step in ("form-2", "subject", "files-required", "files-optional"):
        client.post(step_url(draft, step), {"form_relationship": "me", "continue": "1"})
    assert len(kept_in_session(client)) == apply_views.KEPT_MAX_STEPS  # the newest steps only


# --- Gap 2: a refused file, whatever the button --------------------------------------------------------------------

FAKE_PDF = b"MZ\x90\x00 not a pdf at all"


@pytest.mark.parametrize("button", ["save", "back", "continue"])
def test_a_refused_file_is_explained_on_its_step_whatever_the_button_and_the_rest_is_kept(client, mother, birth,
                                                                                          button):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft, files=False)
    fake = SimpleUploadedFile("scan.pdf", FAKE_PDF, content_type="application/pdf")
    response = client.post(step_url(draft, "files-required"), {"file_TK": pdf_file(), "file_GCS": fake,
                                                               button: "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Only PDF, JPEG and PNG files are accepted" in page
    assert "Your draft is saved" not in page
    assert set(DraftFile.objects.filter(draft=draft).values_list("component_code", flat=True)) == {"TK"}
    if button != "continue":
        assert "Everything else you entered is saved, but the file marked below was not kept" in page
        assert "Attach this document" not in page  # saving or going back does not ask for the missing ones


def test_an_empty_file_is_refused_once_by_its_name_and_the_limit_is_said_before(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft, files=False)
    assert "PDF, JPEG or PNG, at most 10 MB." in client.get(step_url(draft, "files-required")).content.decode()
    empty = SimpleUploadedFile("giay-chung-sinh.pdf", b"", content_type="application/pdf")
    response = client.post(step_url(draft, "files-required"), {"file_TK": pdf_file(), "file_GCS": empty,
                                                               "continue": "1"})
    page = response.content.decode()
    assert response.status_code == 400 and "“giay-chung-sinh.pdf” is empty." in page
    assert "The submitted file is empty." not in page


def test_saving_good_files_says_the_draft_is_saved(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft, files=False)
    response = client.post(step_url(draft, "files-required"), {"file_TK": pdf_file(), "save": "1"}, follow=True)
    assert "Your draft is saved" in response.content.decode()
    assert DraftFile.objects.filter(draft=draft, component_code="TK").exists()


# --- Gap 3: the e-form's rules at their own step -------------------------------------------------------------------

PASSPORT_SCHEMA = {"type": "object", "required": ["delivery"], "properties": {
    "delivery": {"type": "string", "enum": ["buu_chinh", "truc_tiep"]},
    "previous_passport_number": {"type": "string", "pattern": "^[A-Z]\\d{7}$"},
    "floor_area": {"type": "number", "exclusiveMinimum": 0}}}
PASSPORT_UI = {"previous_passport_number": {"label": "Old passport number", "widget": "text"},
               "floor_area": {"label": "Floor area", "widget": "number"}}


@pytest.fixture
def passport(agency, calendar_2026):  # noqa: F811
    version = make_version(agency, code="2.002204", ui_schema=PASSPORT_UI)
    version.form_schema = PASSPORT_SCHEMA
    version.save()
    return version


def test_a_pattern_is_checked_at_its_step_with_the_field_named_and_the_form_shown(client, mother, passport):
    signed_in(client, mother)
    draft, _ = start(client, "2.002204")
    response = client.post(step_url(draft, "form-1"), {"form_delivery": "truc_tiep",
                                                       "form_previous_passport_number": "12345", "continue": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Old passport number: enter it in the expected form, for example A1234567." in page
    assert 'id="id_form_previous_passport_number_error"' in page  # inline, beside the field
    assert 'value="12345"' in page
    response = client.post(step_url(draft, "form-1"), {"form_delivery": "truc_tiep",
                                                       "form_previous_passport_number": "C1234567", "continue": "1"})
    assert response.status_code == 302


def test_a_number_above_an_exclusive_minimum_is_checked_at_its_step(client, mother, passport):
    signed_in(client, mother)
    draft, _ = start(client, "2.002204")
    response = client.post(step_url(draft, "form-1"), {"form_delivery": "truc_tiep", "form_floor_area": "0",
                                                       "continue": "1"})
    assert response.status_code == 400 and "Enter a number greater than 0." in response.content.decode()


def test_examples_are_made_from_simple_patterns_only():
    assert pattern_example("^\\d{5}$") == "12345"
    assert pattern_example("^[A-Z]\\d{7}$") == "A1234567"
    assert pattern_example("^(a|b)+$") == "" and pattern_example("\\d{5}") == ""


def commune_version():
    from egov.procedures.models import ProcedureVersion

    return ProcedureVersion.objects.get(procedure__code="2.004227")


def test_the_commune_is_chosen_from_the_units_the_platform_knows(client, mother, catalogue):  # noqa: F811
    signed_in(client, mother)
    draft, _ = start(client, "2.004227")
    page = client.get(step_url(draft, "form-1")).content.decode()
    assert '<select name="form_commune_code"' in page and '<select name="form_commune_code_province"' in page
    assert '<option value="79">Thành phố Hồ Chí Minh</option>' in page
    assert "Choose the province first" in page and "Phường Bến Thành" not in page  # no commune before a province
    posted = {"form_new_address": "12 Lê Lợi", "form_housing_basis": "so_huu", "agency": "000.00.61.H29",
              "continue": "1"}
    response = client.post(step_url(draft, "form-1"), {**posted, "form_commune_code": "Phường Bến Thành"})
    assert response.status_code == 400
    assert "Xã, phường, đặc khu: choose the commune, ward or special zone from the list." in response.content.decode()
    response = client.post(step_url(draft, "form-1"), {**posted, "form_commune_code": "99999"})
    assert response.status_code == 400
    response = client.post(step_url(draft, "form-1"), {**posted, "form_commune_code": "26743"})
    assert response.status_code == 302
    review = client.get(step_url(draft, "review")).content.decode()
    assert "Phường Bến Thành, Thành phố Hồ Chí Minh" in review
    # Back on the step, its province is chosen and only that province's communes are listed, the commune chosen.
    page = client.get(step_url(draft, "form-1")).content.decode()
    assert '<option value="79" selected>Thành phố Hồ Chí Minh</option>' in page
    assert '<option value="26743" selected>Phường Bến Thành</option>' in page
    assert len(page) < 60_000  # the whole country's communes made it about 200 KB


def test_without_javascript_the_province_button_shows_its_communes_and_keeps_what_was_typed(client, mother,
                                                                                           catalogue):
    signed_in(client, mother)
    draft, _ = start(client, "2.004227")
    response = client.post(step_url(draft, "form-1"), {
        "form_new_address": "12 Lê Lợi", "form_commune_code_province": "79", "form_commune_code": "",
        "agency": "000.00.61.H29", "show_communes": "form_commune_code"})
    assert response.status_code == 200
    page = response.content.decode()
    assert '<option value="79" selected>Thành phố Hồ Chí Minh</option>' in page
    assert '<option value="26743">Phường Bến Thành</option>' in page
    assert 'value="12 Lê Lợi"' in page
    assert "message-error" not in page  # nothing is checked until the applicant goes on
    draft.refresh_from_db()
    assert draft.content()["raw"]["new_address"] == "12 Lê Lợi" and draft.step == "form-1"


def test_the_communes_of_a_province_are_public_reference_data(client, catalogue):
    response = client.get("/places/79/communes.json")
    assert response.status_code == 200 and "public" in response["Cache-Control"]
    communes = dict(response.json()["communes"])
    assert communes["26743"] == "Phường Bến Thành" and all(code.isdigit() and len(code) == 5 for code in communes)
    assert all(AdministrativeUnit.objects.get(code=code, generation="2025").parent.code == "79" for code in communes)
    assert client.get("/places/99/communes.json").status_code == 404
    assert client.get("/places/x'/communes.json").status_code == 404


def test_without_units_loaded_the_commune_is_its_code_checked_with_a_hint(client, mother, catalogue):  # noqa: F811
    AdministrativeUnit.objects.filter(level="commune").update(level="district")  # as if none were loaded
    signed_in(client, mother)
    draft, _ = start(client, "2.004227")
    page = client.get(step_url(draft, "form-1")).content.decode()
    assert 'name="form_commune_code"' in page and "The 5-digit code of the commune, ward or special zone" in page
    response = client.post(step_url(draft, "form-1"), {"form_commune_code": "Phường Bến Thành", "continue": "1"})
    assert "Xã, phường, đặc khu: enter 5 digits, for example 26743." in response.content.decode()


BAD_VALUES = ["x", "A", "0", "-1", "1.5", "abc", "Phường Bến Thành", "31/02/2026", "12345", "9" * 13, "y" * 3000,
              "C1234567", "nam", "9999", "600"]


def test_whatever_the_submission_would_refuse_is_refused_at_its_step_first(catalogue):  # noqa: F811
    """For every field of the demo catalogue's e-forms: a value its step accepts passes the submission's JSON Schema
    check too, so no field error is first heard of at the review."""
    from egov.dossiers.services import InvalidInput, check_form_data
    from egov.procedures.models import ProcedureVersion

    for version in ProcedureVersion.objects.exclude(form_schema={}):
        for name in (version.form_schema.get("properties") or {}):
            for value in BAD_VALUES:
                form = EFormStep({f"form_{name}": value}, version=version, names=[name])
                if not form.is_valid():
                    continue
                try:
                    check_form_data({**version.form_schema, "required": []}, form.answers())
                except InvalidInput as exc:
                    pytest.fail(f"{version.procedure.code} {name}={value!r} passed its step, refused later: "
                                f"{exc.message_dict}")


def test_a_review_error_names_its_field(client, mother, passport):
    signed_in(client, mother)
    draft, _ = start(client, "2.002204")
    client.post(step_url(draft, "form-1"), {"form_previous_passport_number": "12345", "save": "1"})
    response = client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Old passport number: enter it in the expected form" in page
    assert "delivery: This field is required." in page


# --- Gap 4: the ID number of the person applied for -----------------------------------------------------------------

def test_the_id_number_of_the_person_applied_for_must_fit_their_date_of_birth(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    subject = {"on_behalf": "1", "subject_full_name": "Đỗ Minh An", "subject_id_number": "001099012345",
               "subject_date_of_birth": "02/03/2026"}
    response = client.post(step_url(draft, "subject"), {**subject, "continue": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Digit 4 (0) encodes a birth in 1900-1999, but the date of birth is in 2026." in page
    assert 'id="id_subject_id_number_error"' in page and 'value="001099012345"' in page
    response = client.post(step_url(draft, "subject"), {**subject, "subject_id_number": "001226012345",
                                                        "continue": "1"})
    assert response.status_code == 302


def test_a_saved_mismatched_id_number_is_refused_at_the_submission(client, mother, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    client.post(step_url(draft, "subject"), {"on_behalf": "1", "subject_full_name": "Đỗ Minh An",
                                             "subject_id_number": "001099012345",
                                             "subject_date_of_birth": "02/03/2026", "save": "1"})
    response = client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    assert response.status_code == 400 and not Dossier.objects.exists()
    page = response.content.decode()
    assert "Digit 4 (0) encodes a birth in 1900-1999" in page and step_url(draft, "subject") in page


# --- Gap 5: the procedure page's documents -------------------------------------------------------------------------

def test_a_component_whose_name_says_if_you_have_it_says_it_once(client, catalogue, settings):  # noqa: F811
    from django.utils import translation

    settings.LANGUAGE_CODE = "vi"
    with translation.override("vi"):
        html = client.get("/procedures/1.001193/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Giấy chứng nhận kết hôn của cha mẹ (nếu có)" in html
    assert "(nếu có) (nếu có)" not in html and "(nếu có)\n      (nếu có)" not in html
    html = client.get("/procedures/2.004227/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "(nếu ở nhờ) (nếu có)" in html  # an optional component whose name does not say so still gets the note


def test_a_blank_form_is_linked_when_the_catalogue_gives_a_url_or_a_file(client, catalogue, settings, tmp_path):  # noqa: F811
    from egov.procedures.models import ProcedureVersion

    version = ProcedureVersion.objects.get(procedure__code="1.001193")
    assert version.components[0]["template"] == "to-khai-dang-ky-khai-sinh.docx"  # named, not shipped
    html = client.get("/procedures/1.001193/").content.decode()
    assert "Download the blank form" not in html
    (tmp_path / "procedures" / "forms").mkdir(parents=True)
    (tmp_path / "procedures" / "forms" / "to-khai-dang-ky-khai-sinh.docx").write_bytes(b"PK")
    settings.STATICFILES_DIRS = [str(tmp_path)]
    html = client.get("/procedures/1.001193/").content.decode()
    assert 'href="/static/procedures/forms/to-khai-dang-ky-khai-sinh.docx">Download the blank form' in html
    version.components[1]["template"] = "https://example.gov.vn/mau/giay-chung-sinh.pdf"
    ProcedureVersion.objects.filter(pk=version.pk).update(components=version.components)
    html = client.get("/procedures/1.001193/").content.decode()
    assert 'href="https://example.gov.vn/mau/giay-chung-sinh.pdf"' in html
