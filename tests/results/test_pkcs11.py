"""Results signed with an agency's key on a PKCS#11 token, chosen by configuration: SoftHSM (Debian's softhsm2) stands
in for the HSM or USB token. The result is issued the way an officer issues it, verifies valid under the token's
certificate and invalid after a one-byte change; a wrong PIN, token or key label is refused with the setting to fix,
never a 500; a token that dies after its session was opened (restarted, session closed) refuses the result with the
reason, issues nothing, and the next attempt logs in again.

SoftHSM reads ``SOFTHSM2_CONF`` when a process first loads it, so one token per test process (under pytest-xdist, per
worker) is made in a temporary directory before anything loads the library."""
import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured

from egov.dossiers import result_queries, services
from egov.dossiers.result_models import IssuedResult
from egov.kernel import pades, pki
from egov.kernel.models import Event
from tests.results.conftest import make_ca, processed, real_pdf, signed_in

pytestmark = pytest.mark.django_db

SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN, PIN, SO_PIN = "egov-agencies", "246810", "13579111"
AGENCY, OTHER_AGENCY = "000.00.12.H29", "000.00.12.H41"  # tests/dossiers/conftest.py's agency and other_agency


@dataclass(frozen=True)
class Token:
    certificates: dict[str, x509.Certificate]  # org code → the certificate stored with its key on the token
    ca_file: Path                              # the CA that issued them (PEM), for EGOV_TRUSTED_CA_FILES


def _softhsm_util(*args: str) -> None:
    subprocess.run(["softhsm2-util", *args], check=True, capture_output=True, text=True, timeout=60)


def _store(directory: Path, label: str, object_id: bytes, key, certificate: x509.Certificate) -> None:
    """What an operator does: the key imported as PKCS#8 by softhsm2-util, the certificate beside it under the same
    label and id (softhsm2-util imports keys only, so the certificate goes through python-pkcs11)."""
    import pkcs11
    from pkcs11 import Attribute
    from pkcs11.util.x509 import decode_x509_certificate

    key_file = directory / f"{label}.key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    _softhsm_util("--import", str(key_file), "--token", TOKEN, "--label", label, "--id", object_id.hex(),
                  "--pin", PIN)
    key_file.unlink()
    attributes = decode_x509_certificate(certificate.public_bytes(serialization.Encoding.DER))
    attributes.update({Attribute.TOKEN: True, Attribute.LABEL: label, Attribute.ID: object_id})
    with pkcs11.lib(str(SOFTHSM)).get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
        session.create_object(attributes)


def _agency_certificate(ca, org_code: str, name: str, key) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, org_code),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(ca.key, hashes.SHA256()))


@pytest.fixture(scope="session")
def token(tmp_path_factory):
    """A SoftHSM token holding two agencies' keys and certificates (RSA and P-256), labelled by organisation code."""
    if not SOFTHSM.exists() or shutil.which("softhsm2-util") is None:
        reason = f"{SOFTHSM} or softhsm2-util is missing: install Debian's softhsm2 to run the PKCS#11 tests"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (.ci/run installs it; CI must run them)")
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    config = directory / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(config))  # this process's SoftHSM, for softhsm2-util and the library alike
        _softhsm_util("--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN)
        ca = make_ca("Vietnam test root CA (PKCS#11)")  # its signer certificate is AGENCY's, from tests/results
        other_key = ec.generate_private_key(ec.SECP256R1())
        other = _agency_certificate(ca, OTHER_AGENCY, "Sở Tư pháp tỉnh Nghệ An", other_key)
        _store(directory, AGENCY, b"\x01", ca.signer_key, ca.signer_certificate)
        _store(directory, OTHER_AGENCY, b"\x02", other_key, other)
        ca_file = directory / "ca.pem"
        ca_file.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
        yield Token({AGENCY: ca.signer_certificate, OTHER_AGENCY: other}, ca_file)


@pytest.fixture
def configured(settings, token):
    """egov pointed at the token, in production mode (the demo CA neither signs nor is trusted), its CA trusted."""
    settings.ENV = "production"
    settings.RESULT_SIGNING_PKCS11_MODULE = str(SOFTHSM)
    settings.RESULT_SIGNING_PKCS11_TOKEN = TOKEN
    settings.RESULT_SIGNING_PKCS11_KEY = "{org_code}"
    settings.RESULT_SIGNING_PKCS11_PIN = PIN
    settings.TRUSTED_CA_FILES = [str(token.ca_file)]
    pki.close_pkcs11_sessions()  # each test logs in afresh with its own settings
    yield token
    pki.close_pkcs11_sessions()


def test_a_result_issued_by_the_officer_is_signed_on_the_token_and_verifies_valid(configured, officers, version, agency):
    dossier = processed(officers, version)
    attachment = services.attach_result(dossier.pk, officer=officers["leader"])
    with attachment.file.open("rb") as handle:
        content = handle.read()
    expected = pki.fingerprint(configured.certificates[AGENCY])
    issued = IssuedResult.objects.get(dossier=dossier)
    assert issued.certificate_fingerprint == expected
    assert Event.objects.get(event_type="dossier.result_signed").payload["source"] == "pkcs11"

    checked = result_queries.verify_pdf(content)  # what /verify/ does with an uploaded file
    assert checked.valid, checked.messages
    assert checked.trusted and not checked.revoked and checked.issued
    assert checked.certificate_fingerprint == expected
    assert checked.signer == agency.name and checked.signer_org_code == AGENCY
    assert result_queries.verify_code(issued.code).valid  # and with the code printed on it

    tampered = bytearray(content)
    tampered[len(content) // 3] ^= 0x01
    assert not result_queries.verify_pdf(bytes(tampered)).valid


def test_one_token_holds_a_key_per_agency_and_each_signs_with_its_own(configured):
    for code in (AGENCY, OTHER_AGENCY):  # one session logged in once serves every agency's key
        credential = pki.signing_credential(code)
        assert credential.source == "pkcs11" and credential.certificate == configured.certificates[code]
        inspection = pades.inspect(pades.sign(real_pdf(), credential, result_code="ABCD-EFGH-JKMN-PQRS"))
        assert inspection.intact and inspection.whole_document and inspection.trusted
        assert inspection.certificate == configured.certificates[code]


def test_a_revoked_token_certificate_is_refused_for_signing(configured, agency):
    pki.revoke(AGENCY, reason="key compromise")
    with pytest.raises(pki.SigningUnavailable, match="revoked"):
        pki.signing_credential(AGENCY)


@pytest.mark.parametrize("setting, value, says", [
    ("RESULT_SIGNING_PKCS11_PIN", "000000", "EGOV_RESULT_SIGNING_PKCS11_PIN: the PKCS#11 token 'egov-agencies' refused"),
    ("RESULT_SIGNING_PKCS11_PIN", "", "without EGOV_RESULT_SIGNING_PKCS11_PIN its private keys are not visible"),
    ("RESULT_SIGNING_PKCS11_KEY", "missing-{org_code}", "EGOV_RESULT_SIGNING_PKCS11_KEY: the PKCS#11 token "
                                                        "'egov-agencies' holds no certificate and private key labelled "
                                                        "'missing-000.00.12.H29'"),
    ("RESULT_SIGNING_PKCS11_TOKEN", "no-such-token", "EGOV_RESULT_SIGNING_PKCS11_TOKEN: no token labelled 'no-such-token'"),
    ("RESULT_SIGNING_PKCS11_MODULE", "/nonexistent/libvendor-pkcs11.so",
     "EGOV_RESULT_SIGNING_PKCS11_MODULE: /nonexistent/libvendor-pkcs11.so cannot be loaded"),
])
def test_a_wrong_setting_is_a_configuration_error_naming_it(configured, settings, setting, value, says):
    setattr(settings, setting, value)
    with pytest.raises(ImproperlyConfigured) as refused:
        pki.credential(AGENCY)
    assert says in str(refused.value)


def test_without_python_pkcs11_the_token_is_a_configuration_error(configured, monkeypatch):
    """python-pkcs11 comes with egov (pyhanko[pkcs11]); an installation that lost it says so rather than failing."""
    import sys

    import pyhanko.sign

    monkeypatch.delattr(pyhanko.sign, "pkcs11", raising=False)
    monkeypatch.setitem(sys.modules, "pyhanko.sign.pkcs11", None)  # what a failed import leaves: ImportError
    with pytest.raises(ImproperlyConfigured, match="python-pkcs11"):
        pki.credential(AGENCY)


@pytest.mark.parametrize("setting, value", [("RESULT_SIGNING_PKCS11_PIN", "000000"),
                                            ("RESULT_SIGNING_PKCS11_KEY", "missing-{org_code}")])
def test_the_officer_is_told_why_the_result_cannot_be_signed_and_nothing_is_issued(configured, settings, client,
                                                                                  officers, version, setting, value):
    setattr(settings, setting, value)
    dossier = processed(officers, version)
    signed_in(client, officers["leader"])
    response = client.post(f"/backoffice/dossiers/{dossier.code}/sign-result/", {})
    assert response.status_code == 409
    assert "The result cannot be signed now" in response.content.decode()
    assert not IssuedResult.objects.exists()


def test_a_refused_pin_is_not_tried_again_by_the_same_process(configured, settings, monkeypatch):
    """Tokens lock after a few wrong PINs: a process retrying at every officer's action would lock it."""
    from pyhanko.sign import pkcs11

    opened = []
    original = pkcs11.open_pkcs11_session
    monkeypatch.setattr(pkcs11, "open_pkcs11_session", lambda *a, **k: opened.append(1) or original(*a, **k))
    settings.RESULT_SIGNING_PKCS11_PIN = "135790"
    for _ in range(3):
        with pytest.raises(ImproperlyConfigured, match="EGOV_RESULT_SIGNING_PKCS11_PIN"):
            pki.credential(AGENCY)
    assert len(opened) == 1


def _restart_the_token() -> None:
    """What an HSM restart or a token pulled out and plugged back does to this process: every session and the login
    are gone (C_Finalize then C_Initialize on the library pyHanko and egov share), the cached handles are dead."""
    import pkcs11

    pkcs11.lib(str(SOFTHSM)).reinitialize()


def _close_the_session() -> None:
    """The token closing egov's session under it (logout and C_CloseSession on that very handle)."""
    pki.credential(AGENCY).signer.pkcs11_session.close()


@pytest.mark.parametrize("kill", [_restart_the_token, _close_the_session], ids=["token restarted", "session closed"])
def test_a_token_that_dies_after_loading_refuses_the_result_and_the_next_attempt_logs_in_again(
        configured, client, officers, version, monkeypatch, kill):
    from pyhanko.sign import pkcs11

    first, second = processed(officers, version), processed(officers, version)
    signed_in(client, officers["leader"])
    assert client.post(f"/backoffice/dossiers/{first.code}/sign-result/", {}).status_code == 302
    opened = []
    original = pkcs11.open_pkcs11_session
    monkeypatch.setattr(pkcs11, "open_pkcs11_session", lambda *a, **k: opened.append(1) or original(*a, **k))
    kill()
    events, attachments = Event.objects.count(), second.attachments.count()

    response = client.post(f"/backoffice/dossiers/{second.code}/sign-result/", {})
    assert response.status_code == 409
    page = response.content.decode()
    assert "The result cannot be signed now" in page and "the PKCS#11 token &#x27;egov-agencies&#x27; failed (" in page
    second.refresh_from_db()
    assert second.status == 4 and second.attachments.count() == attachments  # nothing issued half-way
    assert not IssuedResult.objects.filter(dossier=second).exists() and Event.objects.count() == events
    assert opened == []  # the failure itself does not log in again: only the next attempt does

    assert client.post(f"/backoffice/dossiers/{second.code}/sign-result/", {}).status_code == 302
    assert opened == [1]  # one new session, logged in with the configured PIN
    second.refresh_from_db()
    assert second.status == 9
    issued = IssuedResult.objects.get(dossier=second)
    with issued.attachment.file.open("rb") as handle:
        assert result_queries.verify_pdf(handle.read()).valid


def test_after_the_token_dies_a_pin_it_now_refuses_is_tried_once(configured, monkeypatch):
    """The token comes back with another PIN (reset by its officer): the login after the failure is refused, and that
    refusal is remembered like any other, so the process does not lock the token by retrying at every action."""
    import pkcs11 as python_pkcs11
    from pyhanko.sign import pkcs11

    pki.credential(AGENCY)  # logged in, credential cached
    _restart_the_token()
    token_ = python_pkcs11.lib(str(SOFTHSM)).get_token(token_label=TOKEN)
    with token_.open(rw=True, user_pin=PIN) as session:
        session.set_pin(PIN, "864200")
    try:
        with pytest.raises(pki.TokenFailed, match="the PKCS#11 token 'egov-agencies' failed"):
            pades.sign(real_pdf(), pki.signing_credential(AGENCY), result_code="ABCD-EFGH-JKMN-PQRS")
        opened = []
        original = pkcs11.open_pkcs11_session
        monkeypatch.setattr(pkcs11, "open_pkcs11_session", lambda *a, **k: opened.append(1) or original(*a, **k))
        for _ in range(3):
            with pytest.raises(ImproperlyConfigured, match="refused the PIN"):
                pki.signing_credential(AGENCY)
        assert len(opened) == 1
    finally:
        with token_.open(rw=True, user_pin="864200") as session:
            session.set_pin("864200", PIN)


# python-pkcs11 ends the failed object search in a finaliser, which meets the same dead handle and can only warn
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_dead_session_found_while_loading_another_agencys_key_is_a_token_failure_not_a_wrong_label(configured):
    """The second agency's key is looked up through the session the first one opened: once that session is dead, the
    lookup fails with the token's error, which must not read as a missing key label (the operator would fix the wrong
    thing)."""
    pki.credential(AGENCY)
    _restart_the_token()
    with pytest.raises(pki.TokenFailed, match="the PKCS#11 token 'egov-agencies' failed"):
        pki.credential(OTHER_AGENCY)
    assert pki.signing_credential(OTHER_AGENCY).certificate == configured.certificates[OTHER_AGENCY]  # logged in again
