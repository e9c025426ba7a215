"""Signed results per core: PAdES signatures/s and verifications/s of a one-page result PDF, each against a raw
``cryptography`` RSA-2048 operation on a SHA-256 digest measured in the same run (issue 8).

What is measured, in this one process (one core):

* sign: ``egov.kernel.pades.sign`` of a one-page generated result (``documents.result_document``) with the agency's
  demo RSA-2048 credential, loaded once as the platform does (``pki.credential``): parse the PDF, write the
  incremental update with the signature field, hash the byte range, build the CMS container, sign.
  Reference: ``RSAPrivateKey.sign`` (PKCS#1 v1.5) of a precomputed SHA-256 digest. ratio = egov / reference.
* verify: ``egov.kernel.pades.inspect`` (parse, digest, CMS signature, chain to the trusted demo CA) plus the
  revocation look-up (``pki.revocation``, one indexed SELECT) of each signed PDF. Reference:
  ``RSAPublicKey.verify`` of the same digest.
* for comparison (no target): the same with an ECDSA P-256 agency key (pyHanko's general path).

Targets: ≥ 50 signatures/s and ≥ 50 verifications/s.
"""
import datetime as dt
import time

TARGET = 50


def _one_page_result() -> bytes:
    from egov.dossiers import documents

    issuer = documents.Issuer(name="Sở Tư pháp Thành phố Hồ Chí Minh", code="000.00.12.H29",
                              parent_name="Ủy ban nhân dân Thành phố Hồ Chí Minh", place="TP. Hồ Chí Minh")
    facts = documents.DossierFacts(code="000.00.12.H29-260302-0001", procedure_code="2.000488",
                                   procedure_name="Cấp Phiếu lý lịch tư pháp", channel="Trực tiếp",
                                   applicant_name="Đỗ Văn Hùng")
    return documents.result_document(issuer, facts, title="Phiếu lý lịch tư pháp số 1",
                                     body="Phiếu lý lịch tư pháp cấp cho Đỗ Văn Hùng, mục đích: xin việc.",
                                     issued_at=dt.datetime(2026, 3, 5, 3, 0, tzinfo=dt.UTC), signer_name="Phạm Thị Dung",
                                     signer_title="Giám đốc", verification="Mã kết quả: ABCD-EFGH-JKMN-PQRS. "
                                     "Kiểm tra tại http://127.0.0.1:8000/verify/?code=ABCD-EFGH-JKMN-PQRS")


def _rate(action, count: int) -> float:
    action()  # warm: caches, templates
    started = time.perf_counter()
    for _ in range(count):
        action()
    return count / (time.perf_counter() - started)


def _p256_credential():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from egov.kernel import pki

    ca = pki.demo_ca()
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "000.00.12.H29"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Bench P-256 agency")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(ca.key, hashes.SHA256()))
    return pki.Credential("000.00.12.H29", "bench", cert, pki._simple_signer(key, cert, [ca.certificate]))


def run(quick: bool) -> list[dict]:
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    from egov.kernel import pades, pki

    count = 60 if quick else 400
    pdf = _one_page_result()
    credential = pki.credential("000.00.12.H29", "Sở Tư pháp Thành phố Hồ Chí Minh")
    signed = pades.sign(pdf, credential, result_code="ABCD-EFGH-JKMN-PQRS")
    signed = pades.sign(pdf, credential, result_code="ABCD-EFGH-JKMN-PQRS")  # as every PDF after the first

    def verify(document=signed):
        inspection = pades.inspect(document)
        if not (inspection.intact and inspection.whole_document and inspection.trusted):
            raise RuntimeError(f"the benchmark's signed PDF does not verify: {inspection}")
        pki.revocation(inspection.certificate)

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    digest = hashlib.sha256(pdf).digest()
    signature = key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    public = key.public_key()

    raw_sign = _rate(lambda: key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())), count * 10)
    signs = _rate(lambda: pades.sign(pdf, credential, result_code="ABCD-EFGH-JKMN-PQRS"), count)
    raw_verify = _rate(lambda: public.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())),
                       count * 10)
    verifies = _rate(verify, count)

    p256 = _p256_credential()
    p256_signed = pades.sign(pdf, p256, result_code="ABCD-EFGH-JKMN-PQRS")
    p256_signs = _rate(lambda: pades.sign(pdf, p256, result_code="ABCD-EFGH-JKMN-PQRS"), max(20, count // 4))
    p256_verifies = _rate(lambda: verify(p256_signed), max(20, count // 4))

    size = f"one-page result PDF ({len(pdf):,} bytes)"
    return [
        {"name": f"PAdES signatures/s, RSA-2048, 1 core, {size}", "value": round(signs, 1), "unit": "signatures/s",
         "reference_name": "raw cryptography RSA-2048 sign of a SHA-256 digest", "reference_value": round(raw_sign),
         "ratio": round(signs / raw_sign, 3), "target": f"≥ {TARGET}/s", "ok": signs >= TARGET},
        {"name": f"PAdES verifications/s, RSA-2048, 1 core, {size}", "value": round(verifies, 1),
         "unit": "verifications/s", "reference_name": "raw cryptography RSA-2048 verify of a SHA-256 digest",
         "reference_value": round(raw_verify), "ratio": round(verifies / raw_verify, 4), "target": f"≥ {TARGET}/s",
         "ok": verifies >= TARGET},
        {"name": "PAdES signatures/s, ECDSA P-256 (comparison), 1 core", "value": round(p256_signs, 1),
         "unit": "signatures/s", "reference_name": "raw cryptography RSA-2048 sign of a SHA-256 digest",
         "reference_value": round(raw_sign), "ratio": round(p256_signs / raw_sign, 3), "target": "none (comparison)",
         "ok": True},
        {"name": "PAdES verifications/s, ECDSA P-256 (comparison), 1 core", "value": round(p256_verifies, 1),
         "unit": "verifications/s", "reference_name": "raw cryptography RSA-2048 verify of a SHA-256 digest",
         "reference_value": round(raw_verify), "ratio": round(p256_verifies / raw_verify, 4),
         "target": "none (comparison)", "ok": True},
    ]
