"""Public API to verify results (no credentials: anyone holding a result may check it), mounted at
``/api/v1/results``; rate limited per client address like the page. Thin: parse, verify, render."""
import datetime as dt
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile

from egov.dossiers import result_forms, result_queries
from egov.exchange.api_auth import problem_responses
from egov.kernel.api_fields import documented
from egov.kernel.client_address import client_address

router = Router(tags=["results"])
PDF_FILE = File(..., description="The result's PDF as received.")
# What result_rules.normalise reads as a code: 16 characters of Crockford's base32 (O read as 0, I and L as 1) in
# any case, with spaces and hyphens anywhere (printed: four groups of four, 7K3M-Q9XA-2BCD-EF01).
RESULT_CODE = documented(pattern=r"^[\s-]*([0-9A-TV-Za-tv-z][\s-]*){16}$")


class VerificationOut(Schema):
    valid: bool = Field(..., description="True only when every check passes.")
    reasons: list[str] = Field(..., description="Why not valid (and `replaced` for a superseded result): unreadable, "
                                                "unsigned, broken, altered, appended, untrusted, revoked, not_issued, "
                                                "different_file, replaced.")
    messages: list[str] = Field(..., description="The reasons in words, in the request's language.")
    result_code: str = Field(..., description="As printed on the result (four groups of four).")
    signer: str = Field(..., description="Common name of the signing certificate.")
    signer_organisation: str
    signer_org_code: str = Field(..., description="Organisation code of the signing agency, from its certificate.")
    signed_at: dt.datetime | None = Field(..., description="Signing time stated in the signature.")
    certificate_fingerprint: str = Field(..., description="SHA-256 of the signing certificate, hexadecimal.")
    trusted: bool = Field(..., description="The certificate chains to a certification authority this platform "
                                           "trusts.")
    revoked: bool
    revoked_at: dt.datetime | None
    issued: bool = Field(..., description="This platform issued a result under this code.")
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    issued_at: dt.datetime | None
    replaced_at: dt.datetime | None = Field(..., description="When a newer result replaced this one, if it was.")


def _out(verification: result_queries.Verification) -> dict:
    data = dict(verification.__dict__)
    data["reasons"] = list(verification.reasons)
    return data


def _limited(request):
    from egov.api import problem

    try:
        result_queries.allow(client_address(request) or "")
    except result_queries.TooManyVerifications as exc:
        response = problem(429, "Too many requests", _("Too many verifications from your address; try again in "
                                                       "%(seconds)s seconds.") % {"seconds": exc.retry_after})
        response["Retry-After"] = str(exc.retry_after)
        return response
    return None


@router.post("/verify", response=VerificationOut, summary="Verify a result PDF (xác thực kết quả)",
             openapi_extra={"responses": problem_responses(400, 422, 429, texts={
                 400: "The body is not readable multipart/form-data (e.g. no boundary).",
                 422: "Not a PDF, empty or too large",
                 429: "Too many verifications from this address"})})
def verify_file(request, file: UploadedFile = PDF_FILE):
    """The file's signature is checked (intact, covering the whole file, chaining to a trusted CA, not revoked) and
    compared with the result this platform issued under the code its signature carries."""
    from django import forms

    from egov.api import problem

    try:
        content = result_forms.read_pdf(file)
    except forms.ValidationError as exc:
        message = " ".join(exc.messages)
        return problem(422, "Invalid input", message, errors=[{"field": "body.file", "message": message,
                                                               "type": "file"}])
    if (limited := _limited(request)) is not None:
        return limited
    return _out(result_queries.verify_pdf(content))


@router.get("/{code}", response=VerificationOut, summary="Verify a result by its code",
            openapi_extra={"responses": problem_responses(404, 422, 429, texts={
                404: "No result has this code", 422: "Not a result code",
                429: "Too many verifications from this address"})})
def verify_code(request, code: Annotated[str, RESULT_CODE]):
    """The stored result is checked again (signature, revocation, stored bytes unchanged). Shows the agency, the
    procedure and the dates; never the applicant."""
    from egov.api import problem
    from egov.dossiers import result_rules

    if result_rules.normalise(code) is None:
        message = _("A result code has 16 letters and digits, in four groups of four.")
        return problem(422, "Invalid input", message, errors=[{"field": "path.code", "message": message,
                                                               "type": "code"}])
    if (limited := _limited(request)) is not None:
        return limited
    verification = result_queries.verify_code(code)
    if verification is None:
        return problem(404, "Not found", _("This platform has issued no result with this code."))
    return _out(verification)
