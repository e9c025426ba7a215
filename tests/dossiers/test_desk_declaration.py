"""The declaration to sign, printed at the desk (tờ khai in sẵn): an applicant who came without their declaration gives
its answers by word, the officer types them in the intake form and prints the declaration for them to sign, then
scans the signed paper with the other components and receives the dossier. Printing stores nothing and allocates no
code; the intake page stays as it was (the PDF is a download)."""
import io

import pytest
from django.test import Client

from egov.dossiers import services
from egov.dossiers.models import Channel, Dossier, DossierCodeSequence
from tests.dossiers.conftest import APPLICANT, make_version, signed_in

pytestmark = pytest.mark.django_db

DECLARATION = {"code": "to_khai", "name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "required": True,
               "eform": True}
PRINT = {"print_declaration": "1"}


@pytest.fixture
def declared(agency, calendar_2026):
    """A procedure whose e-form stands for its declaration component (the catalogue's ``eform: true``)."""
    return make_version(agency, components=[DECLARATION, {"code": "cccd", "name": "Bản chụp Căn cước công dân",
                                                          "required": True}])


def text_of(content: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


def typed(version, **changes) -> dict:
    """What the officer typed, before any scan is chosen."""
    data = {"version": version.pk, "channel": Channel.IN_PERSON, "applicant_full_name": "Đỗ Văn Hùng",
            "applicant_id_number": "036072004321", "applicant_date_of_birth": "20/08/1972",
            "applicant_phone": "0903123456", "applicant_address": "12 Lê Lợi, Phường Sài Gòn",
            "form_purpose": "Xin việc làm", "form_copies": "2"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_desk_prints_the_declaration_from_the_answers_before_any_scan(officers, declared):
    desk = signed_in(Client(), officers["desk"])
    response = desk.post("/backoffice/intake/", {**typed(declared), **PRINT})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="to-khai-2.000488.pdf"'  # the page stays
    assert "no-store" in response["Cache-Control"]  # it carries the applicant's details
    text = text_of(response.content)
    assert "TỜ KHAI YÊU CẦU CẤP PHIẾU LÝ LỊCH TƯ PHÁP" in text
    assert "Lập tại Bộ phận Một cửa" in text and "Kính gửi" in text
    assert "Đỗ Văn Hùng" in text and "036072004321" in text and "Xin việc làm" in text
    assert "Tôi xin cam đoan" in text and "NGƯỜI KHAI" in text and "Ký, ghi rõ họ tên" in text
    assert "Mã hồ sơ" not in text  # not received yet: no code
    assert Dossier.objects.count() == 0 and DossierCodeSequence.objects.count() == 0


def test_the_signed_declaration_is_then_scanned_and_the_dossier_received(officers, declared, settings, tmp_path):
    from tests.dossiers.conftest import pdf_file

    settings.MEDIA_ROOT = tmp_path / "media"
    desk = signed_in(Client(), officers["desk"])
    assert desk.post("/backoffice/intake/", {**typed(declared), **PRINT}).status_code == 200
    response = desk.post("/backoffice/intake/", {**typed(declared), "file_to_khai": pdf_file("to-khai-da-ky.pdf"),
                                                 "file_cccd": pdf_file("cccd.pdf")})
    assert response.status_code == 302, response.content.decode()
    dossier = Dossier.objects.get()
    assert sorted(dossier.attachments.values_list("component_code", flat=True)) == ["cccd", "to_khai"]


def test_answers_the_form_refuses_are_shown_with_everything_kept_and_nothing_printed(officers, declared):
    desk = signed_in(Client(), officers["desk"])
    response = desk.post("/backoffice/intake/", {**typed(declared, form_purpose="", form_copies="12"), **PRINT})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'id="id_form_purpose_error"' in page and 'id="id_form_copies_error"' in page
    assert 'value="Đỗ Văn Hùng"' in page and 'value="036072004321"' in page and 'value="12"' in page
    # the scans are not asked for yet: the signed declaration is one of them
    assert 'id="id_file_to_khai_error"' not in page and 'id="id_file_cccd_error"' not in page


def test_the_button_is_offered_only_where_the_e_form_stands_for_a_declaration(officers, declared, agency):
    desk = signed_in(Client(), officers["desk"])
    page = desk.get("/backoffice/intake/", {"version": declared.pk}).content.decode()
    assert 'name="print_declaration"' in page and 'id="declaration-to-sign-hint"' in page
    plain = make_version(agency, code="1.000002")  # its declaration is a paper of its own, not the e-form
    page = desk.get("/backoffice/intake/", {"version": plain.pk}).content.decode()
    assert 'name="print_declaration"' not in page
    response = desk.post("/backoffice/intake/", {**typed(plain), **PRINT})
    assert response.status_code == 400
    assert "This procedure has no declaration made from its form to print" in response.content.decode()


def test_only_an_officer_who_may_receive_prints_it(officers, declared, foreign_desk):
    for officer in (officers["specialist"], officers["leader"]):
        response = signed_in(Client(), officer).post("/backoffice/intake/", {**typed(declared), **PRINT})
        assert response.status_code in (403, 409) and response["Content-Type"].startswith("text/html"), officer
    # a desk officer of an agency that does not implement the procedure
    response = signed_in(Client(), foreign_desk).post("/backoffice/intake/", {**typed(declared), **PRINT})
    assert response.status_code in (400, 403) and response["Content-Type"].startswith("text/html")
    assert Client().post("/backoffice/intake/", {**typed(declared), **PRINT}).status_code == 302  # to sign in


def test_the_service_checks_what_the_intake_checks(officers, declared):
    with pytest.raises(services.InvalidInput) as refused:
        services.declaration_to_sign(officer=officers["desk"], procedure_version=declared, channel=Channel.IN_PERSON,
                                     applicant={**APPLICANT, "full_name": ""}, subject=None,
                                     form_data={"purpose": "x"})
    assert set(refused.value.message_dict) == {"applicant.full_name", "form.purpose"}
    declared.form_schema = {**declared.form_schema, "required": []}
    declared.save()
    with pytest.raises(services.InvalidInput) as refused:
        services.declaration_to_sign(officer=officers["desk"], procedure_version=declared, channel=Channel.IN_PERSON,
                                     applicant=dict(APPLICANT), subject=None, form_data={})
    assert refused.value.message_dict == {"form": ["Type the applicant's answers in the declaration form first: "
                                                   "there is nothing to print yet."]}
