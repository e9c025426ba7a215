"""Signed electronic results (kết quả điện tử): every result PDF the platform issues carries a result code and the
issuing agency's PAdES signature. ``sign_result`` stamps and signs (no transaction: call it before locking);
``record`` keeps code → dossier, attachment, agency in the caller's transaction.

Before the last processing step is approved there is only a draft (dự thảo kết quả): ``draft_preview`` renders one
from the procedure's template and ``check_draft`` checks an uploaded one can be signed later; neither takes a code
nor a signature."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from egov.dossiers import result_rules
from egov.dossiers.models import Attachment, Dossier
from egov.dossiers.result_models import IssuedResult
from egov.kernel import ledger, pades, pki


@dataclass(frozen=True)
class SignedResult:
    code: str
    content: bytes
    credential: pki.Credential
    signer_name: str


def verification_url(code: str) -> str:
    return f"{settings.PUBLIC_URL}/verify/?code={result_rules.display(code)}"


def verification_line(code: str) -> str:
    """Printed on generated results (Vietnamese: the document's language)."""
    return (f"Mã kết quả: {result_rules.display(code)}. Kiểm tra chữ ký số và tính xác thực của văn bản tại "
            f"{verification_url(code)}")


def _stamp(code: str) -> pades.Stamp:
    """Drawn on an uploaded PDF by the signature's appearance, in the standard PDF font (Latin-1): hence no
    Vietnamese diacritics here."""
    return pades.Stamp((f"Ma ket qua / Result code: {result_rules.display(code)}",
                        f"Xac thuc / Verify: {verification_url(code)}"))


def image_pdf(image: bytes, verification: str) -> bytes:
    """A scanned result (JPEG or PNG) on one A4 page, the verification line under it, so it can be signed."""
    from egov.dossiers import documents
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    pdf.add_font(documents.FONT, "", documents.FONT_DIR / "SourceSansPro-Regular.ttf")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    try:
        pdf.image(io.BytesIO(image), x=15, y=15, w=180, h=250, keep_aspect_ratio=True)
    except Exception:  # noqa: BLE001  (fpdf2/Pillow raise many types for a damaged image)
        from egov.dossiers.services import InvalidInput

        raise InvalidInput({"file": [_("This image cannot be read, so it cannot be signed: scan the result again "
                                       "or upload it as a PDF.")]}) from None
    pdf.set_xy(15, 272)
    pdf.set_font(documents.FONT, "", 8)
    pdf.multi_cell(180, 4, verification)
    return bytes(pdf.output())


def draft_preview(dossier: Dossier, *, officer, at: dt.datetime) -> bytes:
    """A draft result rendered from the procedure's template as the dossier stands now: marked as a draft, with no
    result code, no verification line and no signature."""
    from egov.dossiers import paperwork

    return paperwork.generated_result(dossier, officer=officer, at=at, draft=True)


def check_draft(content: bytes, mime: str) -> None:
    """An uploaded draft is checked as a result to sign is: a PDF that can be opened for signing, or an image that
    can be laid on a page (``InvalidInput`` on the field ``file`` otherwise), so that the approval does not find out."""
    from egov.dossiers.services import InvalidInput

    if mime != "application/pdf":
        image_pdf(content, "")
        return
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError

    try:
        IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    except (PdfError, ValueError, KeyError, TypeError, IndexError):
        raise InvalidInput({"file": [_("This PDF cannot be read, so it cannot be signed: export it again from the "
                                       "original document and upload that.")]}) from None


def sign_result(dossier: Dossier, *, content: bytes | None, mime: str, officer, at: dt.datetime) -> SignedResult:
    """The result's PDF with its new code printed and the receiving agency's signature: generated from the
    procedure's template when ``content`` is None, else the uploaded PDF (code stamped on page 1) or image."""
    from egov.dossiers import paperwork
    from egov.dossiers.services import InvalidInput, TransitionRefused

    code = result_rules.new_code()
    stamp = None
    if content is None:
        pdf = paperwork.generated_result(dossier, officer=officer, at=at, verification=verification_line(code))
    elif mime == "application/pdf":
        pdf, stamp = content, _stamp(code)
    else:
        pdf = image_pdf(content, verification_line(code))
    agency = dossier.receiving_agency
    try:
        credential = pki.signing_credential(agency.code, agency.name)
    except (pki.SigningUnavailable, ImproperlyConfigured) as exc:
        raise TransitionRefused(_("The result cannot be signed now: %(reason)s") % {"reason": exc}) from None
    signer_name = pki.subject_name(credential.certificate) or agency.name
    try:
        signed = pades.sign(pdf, credential, result_code=result_rules.display(code), signer_name=signer_name,
                            location=agency.name, stamp=stamp)
    except pades.UnsignablePdf:
        raise InvalidInput({"file": [_("This PDF cannot be read, so it cannot be signed: export it again from the "
                                       "original document and upload that.")]}) from None
    except pki.SigningUnavailable as exc:  # the token died after loading (pki.TokenFailed): nothing is issued yet
        raise TransitionRefused(_("The result cannot be signed now: %(reason)s") % {"reason": exc}) from None
    return SignedResult(code=code, content=signed, credential=credential, signer_name=signer_name)


def record(dossier: Dossier, attachment: Attachment, signed: SignedResult, *, at: dt.datetime) -> IssuedResult:
    """Keep the issued result (in the caller's transaction); an earlier result of the dossier is marked replaced."""
    IssuedResult.objects.filter(dossier=dossier, replaced_at__isnull=True).update(replaced_at=at)
    issued = IssuedResult.objects.create(
        code=signed.code, dossier=dossier, attachment=attachment, agency=dossier.receiving_agency, issued_at=at,
        sha256=hashlib.sha256(signed.content).hexdigest(), certificate_fingerprint=signed.credential.fingerprint,
        signer_name=signed.signer_name[:200])
    ledger.append("dossier.result_signed", partition=dossier.receiving_agency.code, subject=issued,
                  payload={"code": dossier.code, "result_code": signed.code, "source": signed.credential.source,
                           "certificate": signed.credential.fingerprint})
    return issued
