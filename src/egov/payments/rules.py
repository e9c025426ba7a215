"""Pure payment rules (no I/O, no Django settings): callback signatures, fee lines, what a notification does to a
payment request (the state machine), and finding a dossier code in a bank transfer's content.

The state machine is the heart of "a repeated or reordered callback changes nothing wrong": whatever order the
provider's notifications arrive in, a request is credited at most once, only by a "paid" notification whose amount
matches, and never after it was cancelled or refunded. Every other payment received is sent back in full, never kept:
one the request can no longer take (a second payment, or one after it was cancelled or refunded), one of the wrong
amount (the request stays open for the right one), and one that names no request at all (``decide_unmatched``).
Tested with hypothesis in tests/payments/test_rules.py.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

# Request statuses (mirror models.PaymentRequest.Status; kept here so the rules need no Django model).
PENDING, PAID, REFUNDED, CANCELLED = "pending", "paid", "refunded", "cancelled"
# Notification kinds a provider sends.
KIND_PAID, KIND_FAILED, KIND_PENDING, KIND_REFUNDED = "paid", "failed", "pending", "refunded"
KINDS = frozenset({KIND_PAID, KIND_FAILED, KIND_PENDING, KIND_REFUNDED})

# Outcomes (mirror models.PaymentNotification.Outcome).
CREDITED, NOTED, STALE, MISMATCH, UNMATCHED = "credited", "noted", "stale", "mismatch", "unmatched"
DOUBLE_PAYMENT, REFUND_CONFIRMED, UNEXPECTED_REFUND = "double_payment", "refund_confirmed", "unexpected_refund"
FLAGGED = frozenset({MISMATCH, UNMATCHED, DOUBLE_PAYMENT, UNEXPECTED_REFUND})

SIGNATURE_HEADER = "X-Egov-Signature"
TIMESTAMP_HEADER = "X-Egov-Timestamp"
MAX_BODY_BYTES = 16 * 1024


# --- Signatures ------------------------------------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with the provider's secret over ``{timestamp}.{raw body}`` (the timestamp is
    signed too, so a captured callback cannot be replayed later with a fresh one)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signature_problem(secret: str, timestamp: str | None, signature: str | None, body: bytes, *, now: float,
                      window_seconds: int) -> str | None:
    """Why the callback is not authentic (a short English reason for the log), or None when it is. The comparison
    takes the same time whatever the signature's content (``hmac.compare_digest``)."""
    if not secret:
        return "no secret configured for this provider"
    if not timestamp or not signature:
        return "signature or timestamp header missing"
    try:
        sent = int(timestamp)
    except ValueError:
        return "timestamp is not a whole number of seconds"
    if abs(now - sent) > window_seconds:
        return "timestamp outside the accepted window"
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().encode()):
        return "signature does not match"
    return None


# --- Fee lines -------------------------------------------------------------------------------------------------------

FEE_TYPE = "fee"  # phí/lệ phí; a tax line ("tax") comes from the tax authority, not from the procedure version
# The keys a procedure version's fee may add to code, name and amount to depend on the e-form's answers (documented in
# docs/catalogue-format.md, listed and checked by the catalogue reader, procedures.catalogue.FEE_QUANTITY_KEYS): ``per``
# names an integer field counted in ``unit``s; ``amount`` covers the first ``included`` of them (0 when not given) and
# each further one costs ``unit_amount``, up to the ``up_to``-th when given (a later tier is a second line with
# ``included`` at this one's ``up_to``). ``times`` names an integer field (in ``times_unit``s) that multiplies the whole
# line, such as copies of a per-page fee.


_TYPED_COUNT = re.compile(r"[0-9]+(\.0*)?")  # as a number field sends it ("5", "5.0"), the way Django reads it


def quantity(value) -> int | None:
    """An e-form answer as a count: a whole number (an int, a float without decimals, or digits as typed in a form,
    "5" or "5.0"), not negative; None for anything else (missing, empty, text, negative, true/false)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and _TYPED_COUNT.fullmatch(value.strip()):
        value = int(value.strip().split(".")[0])
    return value if isinstance(value, int) and value >= 0 else None


def _whole(fee: dict, key: str, default: int = 0) -> int:
    value = fee.get(key)
    value = default if value is None else int(value)
    if value < 0:
        raise ValueError(f"fee {fee.get('code')!r} has a negative {key}")
    return value


def fee_line(fee: dict, answers: dict | None = None) -> dict:
    """One request line (type, code, name, amount in VND, whole, not negative) from one of the version's fees and the
    dossier's e-form answers. A fee with ``per`` charges ``unit_amount`` for each unit of the answer after the
    ``included`` ones (up to the ``up_to``-th); one with ``times`` is multiplied by that answer. A missing or invalid
    answer counts as the minimum: no further unit, one time. Where an answer counts, the name says how many (``Phí
    cung cấp thông tin lý lịch tư pháp (5 bản)``): the pay page, the receipt and the messages show the name."""
    answers = answers or {}
    amount = _whole(fee, "amount")
    counts = []
    if fee.get("per"):
        units = quantity(answers.get(fee["per"]))
        included = _whole(fee, "included")
        if units is not None:
            counted = units if fee.get("up_to") is None else min(units, _whole(fee, "up_to"))
            amount += max(0, counted - included) * _whole(fee, "unit_amount")
            counts.append(f"{units} {fee.get('unit') or ''}".strip())
    if fee.get("times"):
        times = quantity(answers.get(fee["times"]))
        if times is not None and times >= 1:
            amount *= times
            counts.append(f"{times} {fee.get('times_unit') or ''}".strip())
    name = str(fee.get("name") or "")
    if counts:
        name = f"{name} ({' × '.join(counts)})"
    return {"type": fee.get("type") or FEE_TYPE, "code": str(fee.get("code") or ""), "name": name, "amount": amount}


def fee_lines(fees: list[dict], answers: dict | None = None) -> list[dict]:
    """The request's lines from the procedure version's fees and the dossier's e-form answers (``fee_line``); without
    answers, each fee at its minimum (its fixed amount). A counted fee that comes to nothing (a second price tier the
    answer does not reach) is left out: a line of 0 đồng asks the applicant for nothing."""
    lines = [(fee, fee_line(fee, answers)) for fee in fees or []]
    return [line for fee, line in lines if line["amount"] or not (fee.get("per") or fee.get("times"))]


def counted_fields(fees: list[dict]) -> set[str]:
    """The e-form fields whose answers the fees depend on (none for fixed fees: the answers need not be read)."""
    return {fee[key] for fee in fees or [] for key in ("per", "times") if fee.get(key)}


def total(lines: list[dict]) -> int:
    return sum(int(line["amount"]) for line in lines)


# --- The state machine -----------------------------------------------------------------------------------------------

STATUSES = frozenset({PENDING, PAID, REFUNDED, CANCELLED})


@dataclass(frozen=True)
class Decision:
    status: str          # the request's status afterwards ("" for a notification that matches no request)
    outcome: str         # what is recorded on the notification
    credit: bool = False  # move the dossier 6 → 4 now (only ever together with PENDING → PAID)
    complete_refund: bool = False
    # Send this notification's money back: a refund of its own transaction (never together with a credit). Money a
    # request can no longer take must not stay with the agency; "one refund per transaction" is the Refund table's
    # constraint, so a repeat of this decision refunds nothing more.
    refund: bool = False


def decide(status: str, kind: str, *, amount_matches: bool, same_transaction_as_paid: bool = False,
           refund_requested: bool = False, refund_of_extra: bool = False) -> Decision:
    """What one verified notification of ``kind`` does to a request in ``status``.

    ``refund_requested``: the notification confirms a refund the platform asked for and not completed yet;
    ``refund_of_extra``: that refund sends back money the request never kept (a double payment), not the payment that
    settled it.

    - pending + paid with the right amount → paid, credited (the only way to credit).
    - pending + paid with another amount → stays pending, flagged and refunded in full: never credited on a wrong
      amount, and not kept either. A fee is a fixed sum per procedure version, so part of it settles nothing and a
      surplus is owed to nobody; holding a part until the rest comes would leave the payer's money in limbo with no
      rule for a fee that changes or a dossier that stops meanwhile. The applicant pays the exact amount again.
    - pending + failed/pending → noted (the applicant may try again).
    - pending + refunded → flagged: we never asked for it (reordered or foreign); nothing changes.
    - paid + paid of another transaction → double payment, refunded (the first payment stays credited); the same
      transaction → stale.
    - paid + failed/pending → stale (a late notification never undoes a payment).
    - paid + refunded → refunded when we asked for the refund of its payment; else flagged.
    - cancelled + paid → double payment (paid at the desk, or after the dossier stopped): refunded.
    - refunded + paid of another transaction → double payment, refunded; anything else → stale.
    - a refund we asked for of an extra transaction → confirmed, whatever the status, which it leaves as it is: the
      request's own payment is not what went back.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if status not in STATUSES:
        raise ValueError(f"unknown request status {status!r}")
    if kind == KIND_REFUNDED and refund_requested and refund_of_extra:
        return Decision(status, REFUND_CONFIRMED, complete_refund=True)
    if status == PENDING:
        if kind == KIND_PAID:
            return Decision(PAID, CREDITED, credit=True) if amount_matches else Decision(PENDING, MISMATCH, refund=True)
        if kind == KIND_REFUNDED:
            return Decision(PENDING, UNEXPECTED_REFUND)
        return Decision(PENDING, NOTED)
    if status == PAID:
        if kind == KIND_PAID:
            return Decision(PAID, STALE) if same_transaction_as_paid else Decision(PAID, DOUBLE_PAYMENT, refund=True)
        if kind == KIND_REFUNDED:
            if refund_requested:
                return Decision(REFUNDED, REFUND_CONFIRMED, complete_refund=True)
            return Decision(PAID, UNEXPECTED_REFUND)
        return Decision(PAID, STALE)
    if status == CANCELLED:
        if kind == KIND_PAID:
            return Decision(CANCELLED, DOUBLE_PAYMENT, refund=True)
        if kind == KIND_REFUNDED:
            return Decision(CANCELLED, UNEXPECTED_REFUND)
        return Decision(CANCELLED, STALE)
    # REFUNDED: the fees went back; a new payment for them is money nothing is owed for any more.
    if kind == KIND_PAID and not same_transaction_as_paid:
        return Decision(REFUNDED, DOUBLE_PAYMENT, refund=True)
    return Decision(REFUNDED, STALE)


def decide_unmatched(kind: str, *, refund_requested: bool = False) -> Decision:
    """What one verified notification that matches no payment request does (a transfer whose content names no
    dossier with a request, a gateway reference the platform never issued); its ``status`` is empty (no request).

    - paid → flagged and refunded in full: the money reached the agency's account for nothing it is owed, and the
      provider and transaction are known (the notification is verified), so it goes back the way it came. It stays
      listed in the reconciliation (its outcome is flagged).
    - refunded, confirming a refund the platform asked for of such money → confirmed.
    - anything else (a failure or pending notice, a refund not asked for) → flagged; nothing to do.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if kind == KIND_REFUNDED and refund_requested:
        return Decision("", REFUND_CONFIRMED, complete_refund=True)
    return Decision("", UNMATCHED, refund=kind == KIND_PAID)


# --- Bank transfers --------------------------------------------------------------------------------------------------

# A dossier code: the receiving unit's code (000.00.12.H29), the day (yyMMdd) and the sequence. Bank apps often drop
# the dots and dashes or change case in a transfer's content, so those are matched loosely and put back.
_CODE = re.compile(r"(\d{3})[.\s]?(\d{2})[.\s]?(\d{2})[.\s]?([A-Za-z]\d{2})[-\s]?(\d{6})[-\s]?(\d{4,6})")


def dossier_code_in(content: str) -> str | None:
    """The first dossier code written in a transfer's content, normalised, or None."""
    match = _CODE.search(content or "")
    if match is None:
        return None
    a, b, c, unit, day, seq = match.groups()
    return f"{a}.{b}.{c}.{unit.upper()}-{day}-{seq}"


def transfer_content(dossier_code: str) -> str:
    """What the applicant's bank transfer says (VietQR purpose): the dossier code, which the bank's credit carries back."""
    return f"NOP PHI HS {dossier_code}"


# The banks of the Napas network by their BIN (the 6-digit bank identifier a VietQR code carries): the pay page names
# the bank a citizen knows, not a number. Banks not listed here are shown by their BIN.
BANK_NAMES = {
    "970436": "Vietcombank", "970415": "VietinBank", "970418": "BIDV", "970405": "Agribank", "970422": "MB",
    "970407": "Techcombank", "970416": "ACB", "970432": "VPBank", "970423": "TPBank", "970403": "Sacombank",
    "970437": "HDBank", "970441": "VIB", "970443": "SHB", "970431": "Eximbank", "970426": "MSB", "970448": "OCB",
    "970440": "SeABank", "970449": "LPBank", "970412": "PVcomBank", "970428": "Nam A Bank", "970419": "NCB",
    "970425": "ABBANK", "970409": "Bac A Bank", "970400": "Saigonbank", "970452": "KienlongBank",
}


def bank_name(bin_code: str) -> str:
    """"Vietcombank (BIN 970436)"; the BIN alone for a bank not in ``BANK_NAMES``."""
    name = BANK_NAMES.get(bin_code)
    return f"{name} (BIN {bin_code})" if name else f"BIN {bin_code}"
