"""The PKI that signs results: the demo CA made once and kept outside the repository and the database, refused in
production; real certificates from PKCS#12; revocations published in the demo CA's CRL; `egov pki`."""
import datetime as dt
import hashlib
import shutil
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from egov.kernel import pades, pki
from tests.results.conftest import make_ca, real_pdf


def test_the_demo_ca_is_generated_once_and_reused(settings):
    first = pki.demo_ca()
    again = pki.demo_ca()
    assert pki.fingerprint(first.certificate) == pki.fingerprint(again.certificate)
    assert pki.is_demo_ca(first.certificate)
    key_file = pki.pki_dir() / "demo-ca.key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert str(pki.pki_dir()).startswith(str(settings.DATA_DIR))  # the data directory, never the repository


def test_an_agency_certificate_is_issued_by_the_demo_ca_and_names_the_agency():
    credential = pki.credential("000.00.99.H29", "Sở Thử nghiệm")
    certificate = credential.certificate
    assert credential.source == "demo"
    assert certificate.issuer == pki.demo_ca().certificate.subject
    assert pki.org_code_of(certificate) == "000.00.99.H29" and pki.subject_name(certificate) == "Sở Thử nghiệm"
    assert pki.credential("000.00.99.H29") is credential  # loaded once per process


def test_production_refuses_the_demo_ca(settings):
    settings.ENV = "production"
    with pytest.raises(ImproperlyConfigured, match="demo CA is refused"):
        pki.demo_ca()
    with pytest.raises(ImproperlyConfigured, match="EGOV_RESULT_SIGNING_PKCS12"):
        pki.credential("000.00.12.H29")
    assert all(not pki.is_demo_ca(ca) for ca in pki.trusted_cas())


def test_production_refuses_the_demo_ca_among_the_trusted_files(settings, tmp_path):
    demo = tmp_path / "demo.pem"
    demo.write_bytes(pki.demo_ca().certificate.public_bytes(serialization.Encoding.PEM))
    settings.ENV = "production"
    settings.TRUSTED_CA_FILES = [str(demo)]
    with pytest.raises(ImproperlyConfigured, match="demo CA, refused in production"):
        pki.trusted_cas()


@pytest.fixture
def pkcs12_agency(settings, tmp_path):
    """An agency certificate from a CA of its own, delivered as a password-protected PKCS#12 file."""
    ca = make_ca("Vietnam test root CA")
    path = tmp_path / "agency.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"agency", ca.signer_key, ca.signer_certificate, [ca.certificate],
        serialization.BestAvailableEncryption(b"s3cret")))
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    settings.RESULT_SIGNING_PKCS12 = f"000.00.12.H29={path}"
    settings.RESULT_SIGNING_PKCS12_PASSWORD = "s3cret"
    return ca, ca_file


def test_a_pkcs12_certificate_signs_and_verifies_when_its_ca_is_trusted(settings, pkcs12_agency):
    ca, ca_file = pkcs12_agency
    credential = pki.credential("000.00.12.H29")
    assert credential.source == "pkcs12" and credential.certificate == ca.signer_certificate
    signed = pades.sign(real_pdf(), credential, result_code="ABCD-EFGH-JKMN-PQRS")
    assert not pades.inspect(signed).trusted  # its CA is not configured yet
    settings.TRUSTED_CA_FILES = [str(ca_file)]
    inspection = pades.inspect(signed)
    assert inspection.intact and inspection.whole_document and inspection.trusted
    assert inspection.result_code == "ABCD-EFGH-JKMN-PQRS"


def test_a_wrong_pkcs12_password_is_a_clear_configuration_error(settings, pkcs12_agency):
    settings.RESULT_SIGNING_PKCS12_PASSWORD = "wrong"
    with pytest.raises(ImproperlyConfigured, match="EGOV_RESULT_SIGNING_PKCS12_PASSWORD"):
        pki.credential("000.00.12.H29")


def test_an_agency_without_a_pkcs12_file_falls_back_to_the_demo_ca_outside_production(settings, pkcs12_agency):
    assert pki.credential("000.00.98.H29").source == "demo"
    settings.ENV = "production"
    with pytest.raises(pki.SigningUnavailable):
        pki.credential("000.00.98.H29")


@pytest.mark.django_db
def test_a_revocation_is_listed_in_the_demo_cas_crl():
    certificate = pki.credential("000.00.97.H29", "Sở Thu hồi").certificate
    row = pki.revoke("000.00.97.H29", reason="key lost")
    assert pki.revoke("000.00.97.H29").pk == row.pk  # idempotent per certificate
    crl = x509.load_der_x509_crl(pki.crl_der())
    assert crl.is_signature_valid(pki.demo_ca().key.public_key())
    revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    assert revoked is not None and revoked.revocation_date_utc <= dt.datetime.now(dt.UTC)


@pytest.mark.django_db
def test_egov_pki_status_and_revoke(capsys):
    pki.credential("000.00.96.H29", "Sở Trạng thái")
    call_command("egov_pki", "status")
    out = capsys.readouterr().out
    assert "demo CA:" in out and "000.00.96.H29\tdemo\tok" in out
    call_command("egov_pki", "revoke", "000.00.96.H29", "--reason", "test")
    assert "revoked" in capsys.readouterr().out
    from egov.kernel.pki_models import RevokedCertificate

    assert RevokedCertificate.objects.filter(org_code="000.00.96.H29").count() == 1


def openssl_style(certificate: x509.Certificate) -> str:
    """The SHA-256 fingerprint computed here, apart from the code under test: hashlib over the DER bytes, written as
    openssl writes it (pairs of upper-case hex digits joined by colons)."""
    digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def line_starting(output: str, start: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith(start)]
    return line


@pytest.mark.django_db
def test_egov_pki_status_prints_the_sha256_fingerprint_of_every_certificate_it_lists(capsys, settings, pkcs12_agency):
    ca, ca_file = pkcs12_agency
    settings.TRUSTED_CA_FILES = [str(ca_file)]
    demo_agency = pki.credential("000.00.95.H29", "Sở Dấu vân tay").certificate
    call_command("egov_pki", "status")
    out = capsys.readouterr().out
    assert f"(SHA-256 {openssl_style(pki.demo_ca().certificate)};" in line_starting(out, "demo CA:")
    assert line_starting(out, "trusted CA: CN=Vietnam test root CA").endswith(f"(SHA-256 {openssl_style(ca.certificate)})")
    assert line_starting(out, "000.00.12.H29\tpkcs12\tok").endswith(
        f"\tSHA-256 {openssl_style(ca.signer_certificate)}")
    assert line_starting(out, "000.00.95.H29\tdemo\tok").endswith(f"\tSHA-256 {openssl_style(demo_agency)}")
    # The revocation names the certificate the same way, so the operator sees it is the one the status listed.
    call_command("egov_pki", "revoke", "000.00.95.H29", "--reason", "test")
    assert f"(SHA-256 {openssl_style(demo_agency)})" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_printed_fingerprint_is_the_one_openssl_prints(tmp_path):
    certificate = pki.credential("000.00.94.H29", "Sở Đối chiếu").certificate
    path = tmp_path / "agency.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    printed = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(path)],
                             capture_output=True, text=True, check=True).stdout  # "sha256 Fingerprint=AB:CD:…"
    assert pki.sha256_fingerprint(certificate) == printed.strip().split("=", 1)[1]


def test_egov_pki_revoke_refuses_a_malformed_code():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not an organisation code"):
        call_command("egov_pki", "revoke", "../etc")
