# ruff: noqa: F811  (fixtures imported from tests/dossiers are parameters of the fixtures below)
"""Result fixtures: the dossier fixtures of tests/dossiers, a dossier brought to the point where its result is
issued, real PDFs to upload, and a certification authority of the test's own that the platform does not trust."""
import datetime as dt
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.dossiers import services
from egov.kernel import pki
from tests.dossiers.conftest import (  # noqa: F401  (fixtures re-exported for the result tests)
    APPLICANT, agency, calendar_2026, citizen, english, officers, other_agency, pdf_file, signed_in, version,
)


def processed(officers, version):
    """A walk-in dossier whose three BPMN steps are done: the leader may issue its result."""
    dossier = services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                      applicant=APPLICANT, subject=None, form_data={"purpose": "xin việc"}, files=[])
    services.transfer(dossier.pk, officer=officers["desk"])
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process")
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review")
    services.complete_step(dossier.pk, officer=officers["leader"], task_id="approve")
    return dossier


def issue(officers, version, file=None):
    """A processed dossier with its result issued; returns (dossier, attachment, signed bytes)."""
    dossier = processed(officers, version)
    attachment = services.attach_result(dossier.pk, officer=officers["leader"], file=file)
    with attachment.file.open("rb") as handle:
        return dossier, attachment, handle.read()


@pytest.fixture
def issued(officers, version):
    return issue(officers, version)


def real_pdf(text="Scanned result") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=text)
    return bytes(pdf.output())


def upload(content: bytes, name="result.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@dataclass
class SelfMadeCa:
    """A CA that no configuration names, and an agency-looking certificate it issued."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    signer_key: rsa.RSAPrivateKey
    signer_certificate: x509.Certificate

    def credential(self) -> pki.Credential:
        return pki.Credential("000.00.12.H29", "test", self.signer_certificate,
                              pki._simple_signer(self.signer_key, self.signer_certificate, [self.certificate]))


def make_ca(name="Self-made CA") -> SelfMadeCa:
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Tư pháp Thành phố Hồ Chí Minh"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "000.00.12.H29"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Sở Tư pháp Thành phố Hồ Chí Minh")])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=False, crl_sign=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .sign(ca_key, hashes.SHA256()))
    return SelfMadeCa(ca_key, ca, key, certificate)


@pytest.fixture(scope="session")
def self_made_ca():
    return make_ca()
