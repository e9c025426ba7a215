"""Verifying results (xác thực kết quả): anyone, with the PDF or its result code, learns whether it is a valid
result of this platform, who signed it and when, and whether the certificate is revoked. Nothing beyond what is
printed on the document is revealed (the agency, the procedure, the date; never the applicant)."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from cryptography.x509.oid import NameOID

from egov.dossiers import result_rules
from egov.dossiers.result_models import IssuedResult
from egov.kernel import pades, pki


class TooManyVerifications(Exception):
    """The client address used its verifications for now (HTTP 429); ``retry_after`` in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Verification:
    valid: bool
    reasons: tuple[str, ...]
    messages: list[str]
    result_code: str = ""                 # as printed (groups of four)
    signer: str = ""                      # the certificate's common name
    signer_organisation: str = ""
    signer_org_code: str = ""
    signed_at: dt.datetime | None = None  # the time the signer states (PAdES-B: no timestamp authority)
    certificate_fingerprint: str = ""
    trusted: bool = False
    revoked: bool = False
    revoked_at: dt.datetime | None = None
    issued: bool = False
    agency_code: str = ""
    agency_name: str = ""
    procedure_code: str = ""
    procedure_name: str = ""
    issued_at: dt.datetime | None = None
    replaced_at: dt.datetime | None = None


def allow(client: str, *, now: float | None = None) -> None:
    """Count one verification of ``client`` (its address) in the shared store; raise ``TooManyVerifications`` past
    ``EGOV_RESULT_VERIFY_PER_MINUTE``."""
    from egov.kernel import ratelimit

    decision = ratelimit.hit(f"result-verify:{client or '-'}"[:100], limit=settings.RESULT_VERIFY_PER_MINUTE,
                             window_seconds=60, now=now)
    if not decision.allowed:
        raise TooManyVerifications(decision.retry_after)


def _record(code: str) -> IssuedResult | None:
    return (IssuedResult.objects.select_related("agency", "dossier__procedure_version__procedure", "attachment")
            .filter(code=code).first())


def _judge(inspection: pades.Inspection, issued: IssuedResult | None, sha256: str) -> Verification:
    certificate = inspection.certificate
    revoked = pki.revocation(certificate) if certificate is not None else None
    facts = result_rules.Facts(
        problem=inspection.problem, intact=inspection.intact, whole_document=inspection.whole_document,
        trusted=inspection.trusted, revoked=revoked is not None, issued=issued is not None,
        same_file=issued is not None and issued.sha256 == sha256,
        replaced=issued is not None and issued.replaced_at is not None)
    verdict = result_rules.verdict(facts)
    found = {}
    if issued is not None:
        version = issued.dossier.procedure_version
        found = {"agency_code": issued.agency.code, "agency_name": issued.agency.name,
                 "procedure_code": version.procedure.code, "procedure_name": version.name,
                 "issued_at": issued.issued_at, "replaced_at": issued.replaced_at}
    code = result_rules.normalise(inspection.result_code) if inspection.result_code else None
    return Verification(
        valid=verdict.valid, reasons=verdict.reasons, messages=verdict.messages,
        result_code=result_rules.display(issued.code if issued else code or ""),
        signer=pki.subject_name(certificate) if certificate is not None else "",
        signer_organisation=pki.subject_name(certificate, NameOID.ORGANIZATION_NAME) if certificate is not None else "",
        signer_org_code=pki.org_code_of(certificate) if certificate is not None else "",
        signed_at=inspection.signing_time,
        certificate_fingerprint=pki.fingerprint(certificate) if certificate is not None else "",
        trusted=inspection.trusted, revoked=revoked is not None,
        revoked_at=revoked.revoked_at if revoked is not None else None, issued=issued is not None, **found)


def verify_pdf(content: bytes) -> Verification:
    """Verify an uploaded file: its signature, and whether it is the very result the platform issued under the code
    its signature carries."""
    inspection = pades.inspect(content)
    code = result_rules.normalise(inspection.result_code) if inspection.result_code else None
    issued = _record(code) if code else None
    return _judge(inspection, issued, hashlib.sha256(content).hexdigest())


def verify_code(text: str) -> Verification | None:
    """Verify a result by its code: the stored file is checked again (its signature, its revocation, and that the
    stored bytes are still those issued). None when no result has this code."""
    code = result_rules.normalise(text)
    issued = _record(code) if code else None
    if issued is None:
        return None
    with issued.attachment.file.open("rb") as handle:
        content = handle.read()
    return _judge(pades.inspect(content), issued, hashlib.sha256(content).hexdigest())
