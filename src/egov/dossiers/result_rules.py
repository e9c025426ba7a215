"""Pure rules of signed electronic results (kết quả điện tử có chữ ký số): the result code printed on each result,
and the verdict of a verification from its facts."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# Crockford's base32: no I, L, O, U, so a code read aloud or typed from paper is not misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 random bits: unguessable, and look-ups are rate limited besides
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A fresh result code, 16 characters (stored without hyphens)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display(code: str) -> str:
    """As printed: four groups of four, e.g. ``7K3M-Q9XA-2BCD-EF01``."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise(text: str) -> str | None:
    """What someone typed, as a stored code: case, spaces and hyphens do not matter, O reads as 0 and I, L as 1.
    None when it cannot be a result code."""
    cleaned = "".join((text or "").split()).replace("-", "").upper().translate(_READ_AS)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


# --- The verdict -------------------------------------------------------------------------------------------------------

REASONS = {
    "unreadable": _("The file is not a PDF that can be read."),
    "unsigned": _("The document carries no electronic signature."),
    "broken": _("The signature is damaged and cannot be checked."),
    "altered": _("The document was changed after it was signed."),
    "appended": _("Content was added to the document after it was signed."),
    "untrusted": _("The signing certificate does not come from a certification authority this platform trusts."),
    "revoked": _("The signing certificate has been revoked."),
    "not_issued": _("This platform has no record of issuing this document."),
    "different_file": _("This file differs from the document the platform issued under this code."),
    "replaced": _("The agency has since issued a newer result that replaces this one."),
}


@dataclass(frozen=True)
class Facts:
    """What a verification found, before judging: the signature's facts and the platform's record."""

    problem: str = ""            # unreadable, unsigned, broken (from the PDF), or ""
    intact: bool = False
    whole_document: bool = False
    trusted: bool = False
    revoked: bool = False
    issued: bool = False         # a record of this result code exists
    same_file: bool = False      # and its stored file is byte for byte this one
    replaced: bool = False       # a newer result replaced it


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reasons: tuple[str, ...]     # keys of REASONS, most important first

    @property
    def messages(self) -> list[str]:
        return [str(REASONS[key]) for key in self.reasons]


def verdict(facts: Facts) -> Verdict:
    """Valid only when every check passes: the signature is intact and covers the whole file, the certificate chains
    to a trusted CA and is not revoked, and the file is the very one the platform issued. A revoked certificate
    fails whatever the signing time claims: without a trusted timestamp that time is the signer's own word, and a
    stolen key can write any date. A replaced result stays valid (it was issued) with the replacement said."""
    if facts.problem:
        return Verdict(False, (facts.problem,))
    reasons = []
    if not facts.intact:
        reasons.append("altered")
    elif not facts.whole_document:
        reasons.append("appended")
    if not facts.trusted:
        reasons.append("untrusted")
    if facts.revoked:
        reasons.append("revoked")
    if not facts.issued:
        reasons.append("not_issued")
    elif not facts.same_file:
        reasons.append("different_file")
    valid = not reasons
    if facts.replaced and facts.issued:
        reasons.append("replaced")
    return Verdict(valid, tuple(reasons))
