"""PAdES signatures on PDF documents (chữ ký số trên văn bản PDF), with pyHanko: sign with a ``pki.Credential``,
and read back what a signed PDF proves.

``inspect`` only reports facts (intact, covering the whole file, chaining to a trusted CA, signer, claimed time, the
result code in the signature); deciding valid or invalid from them is the caller's rule.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass

from cryptography import x509

from egov.kernel import pki

FIELD_NAME = "egov-result"
REASON_PREFIX = "egov result "  # the result code follows; the signature dictionary is covered by the signature
_CODE_IN_REASON = re.compile(r"egov result ([0-9A-Z-]{4,32})")

logger = logging.getLogger(__name__)


def _fast_hex_strings() -> None:
    """pyHanko reads a PDF hex string one byte at a time through a generator; a signature's /Contents is thousands
    of hex digits, which made reading it half the cost of a verification. This reader gives the same result in one
    pass, and hands anything unusual (a comment inside, a stray character, no end) to pyHanko's own reader."""
    import binascii

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PDF_WHITESPACE

    original = generic.read_hex_string_from_stream
    if getattr(original, "egov_fast", False):
        return

    def read_hex_string_from_stream(stream):
        start = stream.tell()
        stream.read(1)  # the opening "<"
        parts = []
        while True:
            block = stream.read(65536)
            if not block:
                stream.seek(start)
                return original(stream)
            end = block.find(b">")
            if end >= 0:
                parts.append(block[:end])
                break
            parts.append(block)
        raw = b"".join(parts)
        digits = raw.translate(None, PDF_WHITESPACE)
        if b"%" in raw or digits.translate(None, generic.HEX_DIGITS):
            stream.seek(start)
            return original(stream)
        stream.seek(start + 1 + len(raw) + 1)
        return generic.pdf_string(binascii.unhexlify(digits + (b"0" if len(digits) % 2 else b"")))

    read_hex_string_from_stream.egov_fast = True
    read_hex_string_from_stream.original = original
    generic.read_hex_string_from_stream = read_hex_string_from_stream


def _outside_event_loop(call):
    """pyHanko's synchronous API runs ``asyncio.run``, which refuses to start inside a running event loop (an async
    view, a test driving a browser). There the call runs in a helper thread instead; elsewhere, directly."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="egov-pades") as pool:
        return pool.submit(call).result()


class UnsignablePdf(Exception):
    """The PDF cannot be read, so it cannot be signed."""


@dataclass(frozen=True)
class Stamp:
    """A visible stamp drawn on the first page's bottom-left corner by the signature's appearance: lines of text
    (the standard PDF font prints Latin-1 only: callers pass text that survives that)."""

    lines: tuple[str, ...]


def sign(pdf: bytes, credential: pki.Credential, *, result_code: str, signer_name: str = "",
         location: str = "", stamp: Stamp | None = None) -> bytes:
    """The PDF signed PAdES-B (baseline, SHA-256) by ``credential``, as an incremental update, the result code in the
    signature's reason."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise UnsignablePdf(str(exc)) from None
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES,
                                        reason=f"{REASON_PREFIX}{result_code}", name=signer_name or None,
                                        location=location or None)
    spec = None
    style = None
    if stamp is not None:
        from pyhanko import stamp as stamps
        from pyhanko.pdf_utils import layout, text

        spec = fields.SigFieldSpec(FIELD_NAME, on_page=0, box=(18, 12, 378, 12 + 13 * (len(stamp.lines) + 1)))
        style = stamps.TextStampStyle(stamp_text="\n".join(line.replace("%", "%%") for line in stamp.lines),
                                      text_box_style=text.TextBoxStyle(font_size=8),
                                      inner_content_layout=layout.SimpleBoxLayoutRule(
                                          x_align=layout.AxisAlignment.ALIGN_MIN,
                                          y_align=layout.AxisAlignment.ALIGN_MID),
                                      border_width=1, background=None)
    try:
        pdf_signer = signers.PdfSigner(meta, credential.signer, stamp_style=style, new_field_spec=spec)
        output = _outside_event_loop(lambda: pdf_signer.sign_pdf(writer, bytes_reserved=_reserved_bytes(credential)))
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise UnsignablePdf(str(exc)) from None
    return output.getvalue()


def _reserved_bytes(credential: pki.Credential) -> int:
    """Room for the CMS signature container: its certificates, the signature value and the signed attributes, with a
    margin (the first PDF a credential signs). Fixed here rather than estimated by pyHanko, which builds and signs a
    whole dummy container per PDF."""
    signer = credential.signer
    template = getattr(signer, "_template", None)
    if template is not None:  # the container's exact size is known: a tight /Contents is also quicker to read back
        return 2 * len(template[0]) + 64  # hexadecimal digits in the file: two per byte
    certificates = [signer.signing_cert, *getattr(signer, "cert_registry", [])]
    return 2 * (2048 + sum(len(c.dump()) for c in certificates if c is not None))


@dataclass(frozen=True)
class Inspection:
    """What a PDF proves about its last signature. ``problem`` names why nothing more could be read:
    ``unreadable`` (not a PDF pyHanko can open), ``unsigned``, or ``broken`` (a signature that cannot be parsed)."""

    problem: str = ""
    intact: bool = False         # the signed bytes hash to the signed digest and the signature value checks out
    whole_document: bool = False  # the signature covers the whole file (nothing added after signing)
    trusted: bool = False         # the signer's certificate chains to a trusted CA (and was valid then)
    certificate: x509.Certificate | None = None
    signing_time: dt.datetime | None = None
    result_code: str = ""
    detail: str = ""


def inspect(pdf: bytes) -> Inspection:
    """The facts of ``pdf``'s last signature. Never raises for bad input: a damaged file is a fact too."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    _fast_hex_strings()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001  (a damaged file raises from deep inside the parser, in many types)
        return Inspection(problem="unreadable", detail=f"{type(exc).__name__}: {exc}"[:300])
    if not signatures:
        return Inspection(problem="unsigned")
    embedded = signatures[-1]
    try:
        reason = str(embedded.sig_object.get("/Reason", ""))
    except Exception:  # noqa: BLE001
        reason = ""
    match = _CODE_IN_REASON.search(reason)
    code = match.group(1) if match else ""
    try:
        certificate = x509.load_der_x509_certificate(embedded.signer_cert.dump())
    except Exception as exc:  # noqa: BLE001
        return Inspection(problem="broken", result_code=code, detail=f"{type(exc).__name__}: {exc}"[:300])
    try:
        context = pki.validation_context()
        status = _outside_event_loop(lambda: validate_pdf_signature(embedded, context, skip_diff=True))
    except (SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        return Inspection(problem="broken", certificate=certificate, result_code=code,
                          detail=f"{type(exc).__name__}: {exc}"[:300])
    except Exception as exc:  # noqa: BLE001  (pyHanko on a tampered structure: report it, never a 500)
        logger.info("signature validation failed on a damaged PDF: %s", exc)
        return Inspection(problem="broken", certificate=certificate, result_code=code,
                          detail=f"{type(exc).__name__}: {exc}"[:300])
    return Inspection(intact=bool(status.intact and status.valid),
                      whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                      trusted=bool(status.trusted), certificate=certificate,
                      signing_time=status.signer_reported_dt, result_code=code)
