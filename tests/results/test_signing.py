"""Every result the platform issues is signed by its agency and verifies; any change to the file, a certificate
from an untrusted CA, or a revoked certificate makes it invalid."""
import hashlib
import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.dossiers import result_queries, result_rules, services
from egov.dossiers.models import Attachment
from egov.dossiers.result_models import IssuedResult
from egov.kernel import pades, pki
from egov.kernel.models import Event
from tests.results.conftest import issue, processed, real_pdf, upload

pytestmark = pytest.mark.django_db


def test_a_generated_result_is_signed_by_its_agency_and_verifies_valid(issued, agency):
    dossier, attachment, content = issued
    record = IssuedResult.objects.get(attachment=attachment)
    assert record.dossier == dossier and record.agency == agency
    assert record.sha256 == hashlib.sha256(content).hexdigest() == attachment.sha256
    checked = result_queries.verify_pdf(content)
    assert checked.valid, checked.messages
    assert checked.signer == agency.name and checked.signer_org_code == agency.code
    assert checked.result_code == result_rules.display(record.code)
    assert checked.issued and checked.agency_code == agency.code and checked.procedure_code == "2.000488"
    assert checked.trusted and not checked.revoked and checked.signed_at is not None
    assert Event.objects.filter(event_type="dossier.result_signed").count() == 1


def test_the_result_code_is_in_the_signed_signature_and_printed_with_the_verification_address(issued, agency):
    from egov.dossiers import result_services

    _, attachment, content = issued
    code = result_rules.display(attachment.issued_result.code)
    inspection = pades.inspect(content)
    assert inspection.result_code == code
    line = result_services.verification_line(attachment.issued_result.code)
    assert code in line and f"/verify/?code={code}" in line
    assert attachment.issued_result.signer_name == agency.name


def test_verifying_by_code_rechecks_the_stored_file(issued, agency):
    _, attachment, _ = issued
    checked = result_queries.verify_code(result_rules.display(attachment.issued_result.code).lower())
    assert checked.valid and checked.agency_name == agency.name
    assert not hasattr(checked, "applicant") and "036072004321" not in repr(checked)


def test_an_unknown_code_is_not_found(db):
    assert result_queries.verify_code(result_rules.new_code()) is None
    assert result_queries.verify_code("not a code") is None


@pytest.mark.parametrize("where", ["start", "page content", "signature container", "end"])
def test_one_byte_changed_anywhere_makes_the_file_invalid(issued, where):
    _, _, content = issued
    at = {"start": 10, "page content": len(content) // 4, "end": len(content) - 3,
          "signature container": content.index(b"/Contents <") + 400}[where]
    tampered = bytearray(content)
    tampered[at] ^= 0x01
    checked = result_queries.verify_pdf(bytes(tampered))
    assert not checked.valid and checked.reasons


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.floats(min_value=0, max_value=1, exclude_max=True), bit=st.integers(min_value=0, max_value=7))
def test_any_one_bit_flip_is_rejected(issued, position, bit):
    _, _, content = issued
    tampered = bytearray(content)
    tampered[int(position * len(content))] ^= 1 << bit
    assert not result_queries.verify_pdf(bytes(tampered)).valid


def test_content_added_after_signing_is_rejected(issued):
    _, _, content = issued
    checked = result_queries.verify_pdf(content + b"\n1 0 obj\n(added later)\nendobj\n")
    assert not checked.valid and "appended" in checked.reasons or "different_file" in checked.reasons


def test_a_pdf_signed_by_a_ca_the_platform_does_not_trust_is_invalid(self_made_ca, db):
    signed = pades.sign(real_pdf(), self_made_ca.credential(), result_code="ABCD-EFGH-JKMN-PQRS")
    checked = result_queries.verify_pdf(signed)
    assert not checked.valid
    assert "untrusted" in checked.reasons and "not_issued" in checked.reasons
    assert not checked.trusted and checked.signer_org_code == "000.00.12.H29"


def test_a_copy_resigned_by_an_untrusted_ca_under_a_real_code_is_invalid(issued, self_made_ca):
    _, attachment, _ = issued
    code = result_rules.display(attachment.issued_result.code)
    forged = pades.sign(real_pdf("Forged"), self_made_ca.credential(), result_code=code)
    checked = result_queries.verify_pdf(forged)
    assert not checked.valid and {"untrusted", "different_file"} <= set(checked.reasons)


def test_a_revoked_certificate_is_shown_revoked(issued, agency):
    _, attachment, content = issued
    pki.revoke(agency.code, reason="key lost")
    checked = result_queries.verify_pdf(content)
    assert not checked.valid and checked.revoked and "revoked" in checked.reasons and checked.revoked_at
    assert result_queries.verify_code(attachment.issued_result.code).revoked


def test_after_a_revocation_the_agency_signs_with_a_new_certificate(issued, officers, version, agency):
    _, attachment, _ = issued
    pki.revoke(agency.code)
    _, second, content = issue(officers, version)
    assert second.issued_result.certificate_fingerprint != attachment.issued_result.certificate_fingerprint
    assert result_queries.verify_pdf(content).valid


def test_an_unsigned_pdf_and_a_non_pdf_are_invalid_with_their_reason(db):
    assert result_queries.verify_pdf(real_pdf()).reasons == ("unsigned",)
    assert result_queries.verify_pdf(b"%PDF-1.7 but nothing else").reasons == ("unreadable",)


def test_an_uploaded_pdf_result_is_stamped_with_its_code_and_signed(officers, version, agency):
    _, attachment, content = issue(officers, version, file=upload(real_pdf()))
    code = result_rules.display(attachment.issued_result.code)
    from pyhanko.pdf_utils.reader import PdfFileReader

    field = PdfFileReader(io.BytesIO(content)).embedded_signatures[0].sig_field
    appearance = field["/AP"]["/N"]
    drawn = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), appearance.data)  # octal escapes
    assert code.encode() in drawn and b"/verify/?code=" in drawn  # the stamp on page 1
    checked = result_queries.verify_pdf(content)
    assert checked.valid and checked.signer == agency.name


def test_an_uploaded_image_result_becomes_a_signed_pdf(officers, version):
    import PIL.Image

    buffer = io.BytesIO()
    PIL.Image.new("RGB", (40, 60), "white").save(buffer, format="PNG")
    _, attachment, content = issue(officers, version, file=upload(buffer.getvalue(), "scan.png", "image/png"))
    assert content.startswith(b"%PDF-") and attachment.content_type == "application/pdf"
    assert result_queries.verify_pdf(content).valid


def test_an_unreadable_uploaded_pdf_is_refused_and_nothing_is_stored(officers, version):
    dossier = processed(officers, version)
    with pytest.raises(services.InvalidInput) as refused:
        services.attach_result(dossier.pk, officer=officers["leader"], file=upload(b"%PDF-1.4\nnot really\n%%EOF\n"))
    assert "cannot be signed" in str(refused.value.message_dict["file"])
    assert not Attachment.objects.filter(dossier=dossier, kind=Attachment.Kind.RESULT).exists()
    assert not IssuedResult.objects.exists()


def test_a_new_result_replaces_the_old_one_which_says_so(officers, version):
    dossier = processed(officers, version)
    first = services.attach_result(dossier.pk, officer=officers["leader"], file=upload(real_pdf("first")))
    # The process ended with the first result (4 → 9): a second one is refused, the first stays the result.
    with pytest.raises(services.TransitionRefused):
        services.attach_result(dossier.pk, officer=officers["leader"], file=upload(real_pdf("second")))
    assert IssuedResult.objects.get().attachment == first


def test_an_officer_of_another_agency_cannot_issue_the_result(officers, version, other_agency):
    from tests.dossiers.conftest import _user

    dossier = processed(officers, version)
    stranger = _user("stranger", "agency_leader", other_agency)
    with pytest.raises(services.NotAllowed):
        services.attach_result(dossier.pk, officer=stranger)
    assert not IssuedResult.objects.exists()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([b"", b" ", b"\n", b"\r\n "]))
def test_the_fast_hex_string_reader_reads_what_pyhankos_own_reads(data, spacing):
    from pyhanko.pdf_utils import generic

    pades._fast_hex_strings()
    fast = generic.read_hex_string_from_stream
    text = b"<" + spacing.join(data.hex()[i:i + 7].encode() for i in range(0, len(data) * 2, 7)) + b"> rest"
    one, other = io.BytesIO(text), io.BytesIO(text)
    assert fast(one) == fast.original(other)
    assert one.tell() == other.tell()
