"""Certificates that sign the platform's results (chứng thư số của cơ quan): where signing keys come from, which CAs
are trusted, which certificates are revoked.

Three sources of an agency's signing credential, chosen by configuration:

- PKCS#11 token (an HSM or a USB token): ``EGOV_RESULT_SIGNING_PKCS11_MODULE`` (the vendor's ``.so``),
  ``EGOV_RESULT_SIGNING_PKCS11_TOKEN`` (token label), ``EGOV_RESULT_SIGNING_PKCS11_KEY`` (key and certificate label;
  ``{org_code}`` in it is replaced by the agency's organisation code, so one token can hold a key per agency) and the
  PIN in ``EGOV_RESULT_SIGNING_PKCS11_PIN``.
- PKCS#12 files: ``EGOV_RESULT_SIGNING_PKCS12`` is one path (the platform signs for every agency) or a list
  ``ORG_CODE=path,ORG_CODE=path,*=path`` (``*``: every other agency); the password in
  ``EGOV_RESULT_SIGNING_PKCS12_PASSWORD``.
- Outside production only, a demo root CA and one certificate per agency, generated on first use under
  ``EGOV_PKI_DIR`` (default ``$EGOV_DATA_DIR/keys/pki``; never in the repository, never in the database), keys
  readable by their owner only. Production refuses the demo CA, both to sign and to trust.

Trusted CAs: the demo CA (outside production) and every certificate in ``EGOV_TRUSTED_CA_FILES`` (PEM or DER files,
comma-separated). Revocations are rows of :class:`~egov.kernel.pki_models.RevokedCertificate`; the demo CA's CRL is
built from them (``crl_der``) and published by the verification pages.

Loaded keys, certificates and the validation context are cached per process (signing and verifying 50 PDFs a second
needs that); a cached credential is dropped when its files change, e.g. after ``egov pki revoke`` in another process.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

DEMO_CA_ORGANISATION = "egov demo CA - not for production"
DEMO_CA_NAME = "egov demo root CA"
ORG_CODE = re.compile(r"^[0-9A-Z][0-9A-Z.]{0,38}$")


class SigningUnavailable(Exception):
    """No usable signing credential for an agency (revoked, or nothing configured)."""


class TokenFailed(SigningUnavailable):
    """The PKCS#11 token stopped answering after its session was opened (unplugged, HSM restarted, session closed):
    the session and what was loaded through it are dropped, so the next attempt opens and logs in again."""


@dataclass(frozen=True)
class Credential:
    """What signs an agency's results: its certificate (``cryptography``), the pyHanko signer, and where it came from
    (``demo``, ``pkcs12`` or ``pkcs11``)."""

    org_code: str
    source: str
    certificate: x509.Certificate
    signer: object  # pyhanko.sign.signers.Signer

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate in lowercase hex: the key revocations and signed results are stored under."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def sha256_fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER bytes as ``openssl x509 -noout -fingerprint -sha256`` prints it (``AB:CD:…``):
    the form an operator compares with the CA's letter, a browser or another tool."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(certificate.public_bytes(serialization.Encoding.DER))
    return digest.finalize().hex(":").upper()


def openssl_form(hex_fingerprint: str) -> str:
    """A stored lowercase-hex fingerprint (``fingerprint``) written as ``sha256_fingerprint`` writes it."""
    return bytes.fromhex(hex_fingerprint).hex(":").upper()


def is_production() -> bool:
    return getattr(settings, "ENV", "development") == "production"


def pki_dir() -> Path:
    return Path(settings.PKI_DIR)


def _write_once(path: Path, data: bytes) -> bool:
    """Write ``path`` atomically and only if it does not exist (mode 0600): a temporary file hard-linked into place,
    so a concurrent reader never sees half a file and the first writer wins. True when this call wrote it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _new_key():
    if getattr(settings, "PKI_DEMO_KEY_TYPE", "rsa2048") == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _ski(key) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


# --- The demo CA -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Authority:
    key: object
    certificate: x509.Certificate


_lock = threading.Lock()
_ca_cache: dict[tuple, Authority] = {}


def _stamp(*paths: Path) -> tuple:
    return tuple((p.stat().st_ino, p.stat().st_mtime_ns) for p in paths)


def demo_ca(create: bool = True) -> Authority:
    """The demo root CA, generated on first use; refused in production."""
    if is_production():
        raise ImproperlyConfigured("the demo CA is refused in production: configure the agencies' certificates "
                                   "(EGOV_RESULT_SIGNING_PKCS12 or EGOV_RESULT_SIGNING_PKCS11_MODULE) and "
                                   "EGOV_TRUSTED_CA_FILES")
    key_path, cert_path = pki_dir() / "demo-ca.key.pem", pki_dir() / "demo-ca.crt.pem"
    if not cert_path.exists():
        if not create:
            raise SigningUnavailable("the demo CA has not been generated yet")
        _write_once(key_path, _pem_key(_new_key()))
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_CA_ORGANISATION),
                          x509.NameAttribute(NameOID.COMMON_NAME, DEMO_CA_NAME)])
        now = timezone.now()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=20 * 365))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(_ski(key), critical=False)
                .sign(key, hashes.SHA256()))
        _write_once(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    stamp = _stamp(key_path, cert_path)
    with _lock:
        cached = _ca_cache.get(stamp)
        if cached is None:
            _ca_cache.clear()
            cached = _ca_cache[stamp] = Authority(
                key=serialization.load_pem_private_key(key_path.read_bytes(), password=None),
                certificate=x509.load_pem_x509_certificate(cert_path.read_bytes()))
        return cached


def _demo_agency_paths(org_code: str) -> tuple[Path, Path]:
    base = pki_dir() / "agencies"
    return base / f"{org_code}.key.pem", base / f"{org_code}.crt.pem"


def _issue_demo_certificate(org_code: str, agency_name: str) -> None:
    key_path, cert_path = _demo_agency_paths(org_code)
    ca = demo_ca()
    _write_once(key_path, _pem_key(_new_key()))
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency_name[:64] or org_code),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, org_code),
                      x509.NameAttribute(NameOID.COMMON_NAME, agency_name[:64] or org_code)])
    now = timezone.now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(_ski(key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
            .sign(ca.key, hashes.SHA256()))
    _write_once(cert_path, cert.public_bytes(serialization.Encoding.PEM))


# --- Credentials -------------------------------------------------------------------------------------------------------

_credentials: dict[str, tuple[tuple, Credential]] = {}


def _asn1(certificate: x509.Certificate):
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _simple_signer(key, certificate: x509.Certificate, chain: list[x509.Certificate]):
    from asn1crypto import keys as asn1_keys
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class LoadedKeySigner(SimpleSigner):
        """pyHanko's SimpleSigner parses the private key again for every signature (about 65 ms for RSA-2048, whose
        consistency check dominates) and signs twice, once to estimate the signature's size. This one keeps the
        loaded key and answers the size estimate with zeros of the right length."""

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
            if dry_run:
                return bytes(key.key_size // 8 if isinstance(key, rsa.RSAPrivateKey) else 2 * (key.key_size // 8) + 8)
            return self.sign_raw(data, digest_algorithm)

        async def async_sign(self, data_digest: bytes, digest_algorithm: str, dry_run=False, use_pades=False,
                             timestamper=None, signed_attr_settings=None, is_pdf_sig=True, encap_content_info=None):
            """PAdES-B with RSA: every container differs only by the document digest and the signature value, so
            the container is built once by pyHanko and then filled in (building it is most of the cost)."""
            plain = (not dry_run and use_pades and is_pdf_sig and timestamper is None and encap_content_info is None
                     and digest_algorithm == "sha256" and isinstance(key, rsa.RSAPrivateKey)
                     and signed_attr_settings is not None and signed_attr_settings.adobe_revinfo_attr is None
                     and signed_attr_settings.cades_signed_attrs is None and not self.attribute_certs)
            if not plain:
                return await super().async_sign(data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades,
                                                timestamper=timestamper, signed_attr_settings=signed_attr_settings,
                                                is_pdf_sig=is_pdf_sig, encap_content_info=encap_content_info)
            from asn1crypto import cms
            from cryptography.hazmat.primitives.asymmetric import padding

            if self._template is None:
                self._template = await self._make_template(signed_attr_settings)
            container, attributes, digest_at, attributes_at, signature_at = self._template
            attributes = attributes[:digest_at] + data_digest + attributes[digest_at + 32:]
            signature = key.sign(attributes, padding.PKCS1v15(), hashes.SHA256())
            filled = bytearray(container)
            filled[attributes_at + digest_at:attributes_at + digest_at + 32] = data_digest
            filled[signature_at:signature_at + len(signature)] = signature
            return cms.ContentInfo.load(bytes(filled))

        _template = None

        async def _make_template(self, signed_attr_settings):
            marker = secrets.token_bytes(32)
            info = await super().async_sign(marker, "sha256", use_pades=True, signed_attr_settings=signed_attr_settings)
            container = info.dump()
            signer_info = info["content"]["signer_infos"][0]
            attributes = b"\x31" + signer_info["signed_attrs"].dump()[1:]  # what is signed: the SET OF form
            signature = signer_info["signature"].native
            digest_at = attributes.index(marker)
            attributes_at = container.index(attributes[1:]) - 1
            signature_at = container.index(signature)
            if len(signature) != key.key_size // 8 or container.count(marker) != 1:
                raise RuntimeError("unexpected CMS container layout")
            return container, attributes, digest_at, attributes_at, signature_at

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            from cryptography.hazmat.primitives.asymmetric import padding
            from pyhanko.sign.general import get_pyca_cryptography_hash

            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(data, padding.PKCS1v15(), hash_algorithm)
            if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(hash_algorithm))
            return super().sign_raw(data, digest_algorithm)

    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return LoadedKeySigner(signing_cert=_asn1(certificate), signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
                           cert_registry=SimpleCertificateStore.from_certs([_asn1(c) for c in chain]),
                           embed_roots=False)


def pkcs12_map() -> dict[str, Path]:
    """``EGOV_RESULT_SIGNING_PKCS12`` read as {org code or ``*``: path}."""
    raw = (getattr(settings, "RESULT_SIGNING_PKCS12", "") or "").strip()
    if not raw:
        return {}
    if "=" not in raw:
        return {"*": Path(raw).expanduser()}
    mapping = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        code, sep, path = item.partition("=")
        if not sep or not path.strip():
            raise ImproperlyConfigured(f"EGOV_RESULT_SIGNING_PKCS12: {item.strip()!r} is not ORG_CODE=path")
        mapping[code.strip()] = Path(path.strip()).expanduser()
    return mapping


def _load_pkcs12(org_code: str, path: Path) -> Credential:
    from cryptography.hazmat.primitives.serialization import pkcs12

    password = (getattr(settings, "RESULT_SIGNING_PKCS12_PASSWORD", "") or "").encode() or None
    try:
        key, certificate, extra = pkcs12.load_key_and_certificates(path.read_bytes(), password)
    except OSError as exc:
        raise ImproperlyConfigured(f"EGOV_RESULT_SIGNING_PKCS12: {path} cannot be read: {exc}") from None
    except ValueError as exc:
        raise ImproperlyConfigured(f"EGOV_RESULT_SIGNING_PKCS12: {path} cannot be opened (wrong password in "
                                   f"EGOV_RESULT_SIGNING_PKCS12_PASSWORD, or not PKCS#12): {exc}") from None
    if key is None or certificate is None:
        raise ImproperlyConfigured(f"EGOV_RESULT_SIGNING_PKCS12: {path} holds no private key with its certificate")
    return Credential(org_code, "pkcs12", certificate, _simple_signer(key, certificate, list(extra or [])))


_pkcs11_lock = threading.Lock()
_pkcs11_sessions: dict[tuple, object] = {}  # (module, token label, PIN) → this process's logged-in session
_pkcs11_refused: dict[tuple, str] = {}      # (module, token label, PIN) → why the token refused that PIN


def _pkcs11_setting() -> tuple[str, str, str]:
    return (settings.RESULT_SIGNING_PKCS11_MODULE, settings.RESULT_SIGNING_PKCS11_TOKEN or "",
            settings.RESULT_SIGNING_PKCS11_PIN or "")


def _pkcs11_session(setting: tuple[str, str, str]):
    """This process's session on the token, logged in once and shared by every agency's key on it: PKCS#11 logs in
    the application, not the session, so a second login (for a second agency) would be refused as already logged in.
    python-pkcs11 runs one operation at a time per session, so threads can share it."""
    import pkcs11 as python_pkcs11
    from pkcs11 import exceptions as p11
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11

    module, token, pin = setting
    with _pkcs11_lock:
        if setting in _pkcs11_sessions:
            return _pkcs11_sessions[setting]
        if setting in _pkcs11_refused:  # tokens lock after a few wrong PINs: never retry one at each officer's action
            raise ImproperlyConfigured(_pkcs11_refused[setting])
        try:  # loaded once per process; pyHanko below gets the same library
            python_pkcs11.lib(module)
        except p11.PKCS11Error as exc:
            raise ImproperlyConfigured(f"EGOV_RESULT_SIGNING_PKCS11_MODULE: {module} cannot be loaded as a PKCS#11 "
                                       f"module: {exc}") from None
        try:
            session = pkcs11.open_pkcs11_session(module, token_criteria=TokenCriteria(label=token),
                                                 user_pin=pin or None)  # no PIN: the token asks on its own PIN pad
        except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange, p11.PinLocked, p11.PinExpired) as exc:
            _pkcs11_refused[setting] = (f"EGOV_RESULT_SIGNING_PKCS11_PIN: the PKCS#11 token {token!r} refused the PIN "
                                        f"({type(exc).__name__}); this process will not try it again")
            raise ImproperlyConfigured(_pkcs11_refused[setting]) from None
        except p11.PKCS11Error as exc:
            raise ImproperlyConfigured(f"EGOV_RESULT_SIGNING_PKCS11_TOKEN: no token labelled {token!r} could be "
                                       f"opened with {module}: {type(exc).__name__}: {exc}") from None
        _pkcs11_sessions[setting] = session
        return session


def _load_pkcs11(org_code: str) -> Credential:
    try:
        from pkcs11 import exceptions as p11
        from pyhanko.sign import pkcs11
    except ImportError as exc:  # python-pkcs11 comes with egov (pyhanko[pkcs11]): only a broken installation lacks it
        raise ImproperlyConfigured(f"EGOV_RESULT_SIGNING_PKCS11_MODULE is set, but PKCS#11 signing needs the "
                                   f"python-pkcs11 package (pyhanko[pkcs11]): {exc}") from None

    setting = _pkcs11_setting()
    label = (settings.RESULT_SIGNING_PKCS11_KEY or "").replace("{org_code}", org_code)
    if not setting[1] or not label:
        raise ImproperlyConfigured("EGOV_RESULT_SIGNING_PKCS11_TOKEN and EGOV_RESULT_SIGNING_PKCS11_KEY must be set "
                                   "with EGOV_RESULT_SIGNING_PKCS11_MODULE")
    session = _pkcs11_session(setting)

    class TokenSigner(pkcs11.PKCS11Signer):
        """A token that dies mid-signature (unplugged, HSM restarted) raises python-pkcs11's errors, which nothing
        above knows: they become TokenFailed (a refusal the officer reads) and the dead session is dropped here, the
        one place that knows which session it was."""

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
            try:
                return await super().async_sign_raw(data, digest_algorithm, dry_run=dry_run)
            except p11.PKCS11Error as exc:
                raise _token_failed(setting, session, exc) from None

    signer = TokenSigner(session, cert_label=label, key_label=label)
    try:  # read the certificate and find the key now, so that a wrong label is named here rather than mid-signature
        certificate = x509.load_der_x509_certificate(signer.signing_cert.dump())
    except p11.PKCS11Error as exc:
        # pyHanko reports a missing or duplicated object as a bare PKCS11Error with its own wording; anything else
        # (SessionHandleInvalid, DeviceRemoved, ...) is the cached session having died since it was opened.
        if type(exc) is not p11.PKCS11Error or not str(exc).startswith(("Could not find", "Found more than one")):
            raise _token_failed(setting, session, exc) from None
        unseen = "" if setting[2] else " (without EGOV_RESULT_SIGNING_PKCS11_PIN its private keys are not visible)"
        raise ImproperlyConfigured(f"EGOV_RESULT_SIGNING_PKCS11_KEY: the PKCS#11 token {setting[1]!r} holds no "
                                   f"certificate and private key labelled {label!r}{unseen}: {exc}") from None
    # ECDSA: the digest made here and signed with plain CKM_ECDSA, which every token has; many (SoftHSM, smart cards)
    # lack the hashing mechanisms such as CKM_ECDSA_SHA256 that pyHanko asks for otherwise.
    signer.use_raw_mechanism = isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    return Credential(org_code, "pkcs11", certificate, signer)


def _close_quietly(session) -> None:
    from pkcs11 import exceptions as p11

    try:
        session.close()
    except p11.PKCS11Error:
        pass  # a dead session cannot be closed (its handle is gone with the token): forgetting it is all there is to do


def _token_failed(setting: tuple[str, str, str], session, exc: Exception) -> TokenFailed:
    """Drop ``session`` (if it is still the one cached for ``setting``: another thread may have replaced it already)
    and the credentials loaded through it, so that the next attempt opens the token and logs in again. The refused
    PINs are kept: a new login with a PIN the token refused would still count towards locking it."""
    with _pkcs11_lock:
        if _pkcs11_sessions.get(setting) is session:
            del _pkcs11_sessions[setting]
            _close_quietly(session)  # a session still alive keeps the login; closed, the next one logs in afresh
    with _lock:
        for org_code in [code for code, (_, found) in _credentials.items()
                         if found.source == "pkcs11" and getattr(found.signer, "pkcs11_session", None) is session]:
            del _credentials[org_code]
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return TokenFailed(f"the PKCS#11 token {setting[1]!r} failed ({detail}): its session was closed and the next "
                       f"attempt logs in again; check that the token is connected and working")


def close_pkcs11_sessions() -> None:
    """Close this process's token sessions and forget what was loaded through them, and the refused PINs (for tests
    that change the configuration, which otherwise changes only with a restart)."""
    with _pkcs11_lock:
        for session in _pkcs11_sessions.values():
            _close_quietly(session)
        _pkcs11_sessions.clear()
        _pkcs11_refused.clear()
    with _lock:
        for org_code in [code for code, (_, found) in _credentials.items() if found.source == "pkcs11"]:
            del _credentials[org_code]


def _configured_source(org_code: str) -> tuple[str, Path | None]:
    if getattr(settings, "RESULT_SIGNING_PKCS11_MODULE", ""):
        return "pkcs11", None
    mapping = pkcs12_map()
    if mapping:
        path = mapping.get(org_code) or mapping.get("*")
        if path is not None:
            return "pkcs12", path
        if is_production():
            raise SigningUnavailable(f"no PKCS#12 file is configured for {org_code} (EGOV_RESULT_SIGNING_PKCS12)")
    if is_production():
        raise ImproperlyConfigured("results are signed with the agencies' own certificates in production: set "
                                   "EGOV_RESULT_SIGNING_PKCS12 or EGOV_RESULT_SIGNING_PKCS11_MODULE (the demo CA is "
                                   "refused)")
    return "demo", None


def credential(org_code: str, agency_name: str = "") -> Credential:
    """The credential that signs ``org_code``'s results, loaded once per process (reloaded when its files change)."""
    if not ORG_CODE.match(org_code or ""):
        raise ValueError(f"not an organisation code: {org_code!r}")
    source, path = _configured_source(org_code)
    if source == "pkcs11":
        files: tuple = ("pkcs11", *_pkcs11_setting(), settings.RESULT_SIGNING_PKCS11_KEY)
    elif source == "pkcs12":
        files = _stamp(path) if path.exists() else ("missing",)
    else:
        key_path, cert_path = _demo_agency_paths(org_code)
        if not cert_path.exists():
            _issue_demo_certificate(org_code, agency_name)
        files = _stamp(key_path, cert_path, pki_dir() / "demo-ca.crt.pem")
    with _lock:
        cached = _credentials.get(org_code)
        if cached is not None and cached[0] == files:
            return cached[1]
    if source == "pkcs11":
        loaded = _load_pkcs11(org_code)
    elif source == "pkcs12":
        loaded = _load_pkcs12(org_code, path)
    else:
        key_path, cert_path = _demo_agency_paths(org_code)
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        loaded = Credential(org_code, "demo", certificate, _simple_signer(key, certificate, [demo_ca().certificate]))
    with _lock:
        _credentials[org_code] = (files, loaded)
    return loaded


def signing_credential(org_code: str, agency_name: str = "") -> Credential:
    """``credential`` refused when revoked; a revoked demo certificate is replaced by a new one at once."""
    found = credential(org_code, agency_name)
    if revocation(found.certificate) is None:
        return found
    if found.source == "demo":
        _retire_demo_files(org_code)
        found = credential(org_code, agency_name)
        if revocation(found.certificate) is None:
            return found
    raise SigningUnavailable(f"the signing certificate of {org_code} is revoked: configure a new one")


def _retire_demo_files(org_code: str) -> None:
    for path in _demo_agency_paths(org_code):
        if path.exists():
            path.rename(path.with_name(f"{path.name}.revoked-{secrets.token_hex(4)}"))


# --- Trust and revocation ----------------------------------------------------------------------------------------------

def is_demo_ca(certificate: x509.Certificate) -> bool:
    orgs = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return any(attr.value == DEMO_CA_ORGANISATION for attr in orgs)


def _read_certificates(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def trusted_cas() -> list[x509.Certificate]:
    """The demo CA (outside production, once generated) and the certificates of ``EGOV_TRUSTED_CA_FILES``."""
    roots = []
    if not is_production():
        try:
            roots.append(demo_ca().certificate)
        except SigningUnavailable:
            pass  # not generated yet: nothing was signed with it, so there is nothing to trust it for
    for name in getattr(settings, "TRUSTED_CA_FILES", []) or []:
        try:
            found = _read_certificates(Path(name).expanduser())
        except (OSError, ValueError) as exc:
            raise ImproperlyConfigured(f"EGOV_TRUSTED_CA_FILES: {name} cannot be read as certificates: {exc}") from None
        for certificate in found:
            if is_demo_ca(certificate) and is_production():
                raise ImproperlyConfigured(f"EGOV_TRUSTED_CA_FILES: {name} is an egov demo CA, refused in production")
            roots.append(certificate)
    return roots


_context_cache: dict[tuple, object] = {}


def validation_context():
    """A pyHanko validation context trusting ``trusted_cas()``; nothing is fetched (revocation is the platform's own
    table, checked by the caller). Cached per process while the trusted files do not change."""
    from pyhanko_certvalidator import ValidationContext

    names = [Path(n).expanduser() for n in getattr(settings, "TRUSTED_CA_FILES", []) or []]
    demo = pki_dir() / "demo-ca.crt.pem"
    key = (is_production(), _stamp(*[p for p in [demo, *names] if p.exists()]), tuple(names))
    with _lock:
        cached = _context_cache.get(key)
    if cached is None:
        cached = ValidationContext(trust_roots=[_asn1(c) for c in trusted_cas()], allow_fetching=False,
                                   revocation_mode="soft-fail")
        with _lock:
            _context_cache.clear()
            _context_cache[key] = cached
    return cached


def revocation(certificate: x509.Certificate):
    """The revocation row of ``certificate``, or None."""
    from egov.kernel.pki_models import RevokedCertificate

    return RevokedCertificate.objects.filter(fingerprint=fingerprint(certificate)).first()


def org_code_of(certificate: x509.Certificate) -> str:
    units = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return str(units[0].value) if units else ""


def subject_name(certificate: x509.Certificate, oid=NameOID.COMMON_NAME) -> str:
    found = certificate.subject.get_attributes_for_oid(oid)
    return str(found[0].value) if found else ""


@transaction.atomic
def revoke(org_code: str, *, reason: str = "", actor=None, at: dt.datetime | None = None):
    """Thu hồi: revoke the certificate that signs ``org_code``'s results now. Signatures made with it verify as
    revoked from then on; a demo certificate is replaced at the next signature, a configured one must be replaced by
    the operator. Idempotent (the first revocation's time is kept)."""
    from egov.kernel import ledger
    from egov.kernel.pki_models import RevokedCertificate

    found = credential(org_code)
    certificate = found.certificate
    row, created = RevokedCertificate.objects.get_or_create(
        fingerprint=fingerprint(certificate),
        defaults={"serial_number": format(certificate.serial_number, "x"), "issuer": certificate.issuer.rfc4514_string()[:400],
                  "subject": certificate.subject.rfc4514_string()[:400], "org_code": org_code,
                  "revoked_at": at or timezone.now(), "reason": reason[:200]})
    if created:
        ledger.append("pki.certificate_revoked", partition="platform", actor=actor, subject=row,
                      payload={"org_code": org_code, "fingerprint": row.fingerprint, "source": found.source})
    if found.source == "demo":
        transaction.on_commit(lambda: _retire_demo_files(org_code))
    return row


def crl_der(next_update_days: int = 7) -> bytes:
    """The demo CA's certificate revocation list (DER), from the revocation table."""
    from egov.kernel.pki_models import RevokedCertificate

    ca = demo_ca()
    now = timezone.now()
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.certificate.subject)
               .last_update(now).next_update(now + dt.timedelta(days=next_update_days)))
    issuer = ca.certificate.subject.rfc4514_string()
    for row in RevokedCertificate.objects.filter(issuer=issuer[:400]).order_by("id"):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(int(row.serial_number, 16)).revocation_date(row.revoked_at)
            .build())
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def status() -> list[dict]:
    """One line per signing credential known on this machine (for ``egov pki status``)."""
    rows = []
    if getattr(settings, "RESULT_SIGNING_PKCS11_MODULE", ""):
        rows.append({"org_code": "*", "source": "pkcs11", "subject": settings.RESULT_SIGNING_PKCS11_TOKEN,
                     "fingerprint": "", "sha256": "", "not_after": None, "revoked": False})
    codes = {code: ("pkcs12", path) for code, path in pkcs12_map().items()}
    if not is_production():
        for cert_path in sorted((pki_dir() / "agencies").glob("*.crt.pem")):
            codes.setdefault(cert_path.name.removesuffix(".crt.pem"), ("demo", cert_path))
    for code, (source, path) in sorted(codes.items()):
        try:
            if source == "pkcs12":
                certificate = _load_pkcs12(code, path).certificate
            else:
                certificate = x509.load_pem_x509_certificate(path.read_bytes())
        except (ImproperlyConfigured, OSError, ValueError) as exc:
            rows.append({"org_code": code, "source": source, "subject": f"unreadable: {exc}", "fingerprint": "",
                         "sha256": "", "not_after": None, "revoked": False})
            continue
        rows.append({"org_code": code, "source": source, "subject": certificate.subject.rfc4514_string(),
                     "fingerprint": fingerprint(certificate), "sha256": sha256_fingerprint(certificate),
                     "not_after": certificate.not_valid_after_utc, "revoked": revocation(certificate) is not None})
    return rows
