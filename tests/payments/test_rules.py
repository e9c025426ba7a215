"""The pure payment rules: signatures, fee lines, the notification state machine, dossier codes in transfers."""
import itertools

from hypothesis import given
from hypothesis import strategies as st

from egov.payments import rules

KINDS = sorted(rules.KINDS)


def test_a_signature_verifies_only_with_the_same_secret_body_and_timestamp():
    body = b'{"transaction_id":"T1","kind":"paid","amount":200000}'
    good = rules.sign("s3cret", "1700000000", body)
    assert rules.signature_problem("s3cret", "1700000000", good, body, now=1700000010, window_seconds=300) is None
    assert rules.signature_problem("other", "1700000000", good, body, now=1700000010, window_seconds=300)
    assert rules.signature_problem("s3cret", "1700000000", good, body + b" ", now=1700000010, window_seconds=300)
    assert rules.signature_problem("s3cret", "1700000001", good, body, now=1700000010, window_seconds=300)


def test_an_old_or_unsigned_callback_is_refused_with_its_reason():
    body = b"{}"
    old = rules.sign("k", "1000", body)
    assert "window" in rules.signature_problem("k", "1000", old, body, now=5000, window_seconds=300)
    assert "missing" in rules.signature_problem("k", None, None, body, now=5000, window_seconds=300)
    assert "whole number" in rules.signature_problem("k", "soon", old, body, now=5000, window_seconds=300)
    assert "no secret" in rules.signature_problem("", "1000", old, body, now=1000, window_seconds=300)


def test_fee_lines_carry_type_code_name_and_amount_and_add_up():
    lines = rules.fee_lines([{"code": "LLTP", "name": "Phí", "amount": 200000}, {"code": "X", "name": "Y", "amount": 5}])
    assert lines[0] == {"type": "fee", "code": "LLTP", "name": "Phí", "amount": 200000}
    assert rules.total(lines) == 200005


@given(st.text(max_size=30), st.integers(min_value=1, max_value=99999))
def test_a_dossier_code_is_found_in_a_transfer_content_however_the_bank_mangles_it(noise, sequence):
    code = f"000.00.12.H29-260305-{sequence:04d}"
    mangled = code.replace(".", "").replace("-", " ").lower()
    assert rules.dossier_code_in(f"NOP PHI HS {code} {noise}") == code
    assert rules.dossier_code_in(mangled) == code


def test_no_dossier_code_no_match():
    assert rules.dossier_code_in("chuyen tien an trua") is None


def run(kinds_and_amounts, *, refund_requested_after_paid=False):
    """Apply a sequence of (transaction id, kind, amount ok) to a fresh request; count credits."""
    status, credits, paid_by = rules.PENDING, 0, None
    for transaction, kind, amount_ok in kinds_and_amounts:
        decision = rules.decide(status, kind, amount_matches=amount_ok, same_transaction_as_paid=transaction == paid_by,
                                refund_requested=refund_requested_after_paid and status == rules.PAID)
        if decision.credit:
            credits += 1
            paid_by = transaction
        status = decision.status
    return status, credits


notifications = st.lists(st.tuples(st.sampled_from(["t1", "t2", "t3"]), st.sampled_from(KINDS), st.booleans()),
                         max_size=8)


@given(notifications)
def test_a_request_is_credited_at_most_once_whatever_arrives(sequence):
    _status, credits = run(sequence)
    assert credits <= 1


@given(notifications)
def test_only_a_paid_notification_with_the_right_amount_credits(sequence):
    _status, credits = run(sequence)
    if not any(kind == rules.KIND_PAID and ok for _t, kind, ok in sequence):
        assert credits == 0


@given(notifications)
def test_repeating_every_notification_changes_nothing(sequence):
    doubled = [item for item in sequence for _ in (0, 1)]
    assert run(doubled) == run(sequence)


@given(st.lists(st.tuples(st.sampled_from(["t1", "t2"]), st.sampled_from([rules.KIND_PAID, rules.KIND_FAILED,
                                                                         rules.KIND_PENDING]), st.booleans()),
                max_size=5))
def test_the_order_of_payment_notifications_does_not_change_whether_it_is_paid(sequence):
    outcomes = {run(list(order))[0] == rules.PAID for order in itertools.permutations(sequence)}
    assert len(outcomes) == 1


def test_a_late_failure_or_pending_never_undoes_a_payment():
    for kind in (rules.KIND_FAILED, rules.KIND_PENDING):
        assert rules.decide(rules.PAID, kind, amount_matches=True) == rules.Decision(rules.PAID, rules.STALE)


def test_a_refund_before_the_payment_is_flagged_and_the_payment_still_credits():
    first = rules.decide(rules.PENDING, rules.KIND_REFUNDED, amount_matches=True)
    assert (first.status, first.outcome, first.credit) == (rules.PENDING, rules.UNEXPECTED_REFUND, False)
    assert rules.decide(first.status, rules.KIND_PAID, amount_matches=True).credit


def test_a_second_payment_or_a_payment_after_cancelling_or_refunding_is_a_double_payment_refunded():
    for status in (rules.PAID, rules.CANCELLED, rules.REFUNDED):
        for amount_ok in (True, False):
            decision = rules.decide(status, rules.KIND_PAID, amount_matches=amount_ok)
            assert decision == rules.Decision(status, rules.DOUBLE_PAYMENT, refund=True)
    # The payment that settled the request, seen again, is not money to send back.
    for status in (rules.PAID, rules.REFUNDED):
        assert not rules.decide(status, rules.KIND_PAID, amount_matches=True, same_transaction_as_paid=True).refund


def test_the_refund_of_a_double_payment_completes_only_itself():
    for status in (rules.PAID, rules.CANCELLED, rules.REFUNDED, rules.PENDING):
        decision = rules.decide(status, rules.KIND_REFUNDED, amount_matches=False, refund_requested=True,
                                refund_of_extra=True)
        assert decision == rules.Decision(status, rules.REFUND_CONFIRMED, complete_refund=True)
    # Not asked for (or completed already): flagged or stale, never a status change.
    for status in (rules.PAID, rules.CANCELLED):
        assert rules.decide(status, rules.KIND_REFUNDED, amount_matches=True, refund_of_extra=True).outcome == \
            rules.UNEXPECTED_REFUND


def money(sequence, *, start=rules.PENDING, paid_by=None):
    """The pure model of a request's money over a sequence of (transaction id, kind, amount ok): its status, the
    transaction credited, and the transactions sent back (a set: one refund per transaction is the Refund table's
    constraint, which makes a repeated decision to refund the same transaction refund nothing more)."""
    status, credited, refunded = start, paid_by, set()
    amounts: dict[str, bool] = {}
    for transaction, kind, amount_ok in sequence:
        # A transaction has one amount, the provider's: a repeat of it is the same money (and the platform stores a
        # transaction once), never the same id with another amount.
        amount_ok = amounts.setdefault(transaction, amount_ok)
        decision = rules.decide(status, kind, amount_matches=amount_ok, same_transaction_as_paid=transaction == credited)
        assert not (decision.credit and decision.refund)
        if decision.credit:
            credited = transaction
        if decision.refund:
            refunded.add(transaction)
        status = decision.status
    return status, credited, refunded


@given(st.sampled_from([rules.PENDING, rules.PAID, rules.CANCELLED, rules.REFUNDED]), st.lists(st.booleans(), max_size=6))
def test_every_transfer_is_credited_once_or_sent_back_in_full(start, amounts):
    """Distinct transfers (each its own transaction): from a pending request, the first with the right amount is
    credited and every other one refunded, whatever its amount: one of the wrong amount before it goes back too (the
    request stays open for the right one). A request that took its payment, or can take none, sends every new
    transfer back. No transfer is ever kept without crediting the request."""
    transfers = [(f"t{i}", rules.KIND_PAID, ok) for i, ok in enumerate(amounts)]
    settled = "t-settled" if start in (rules.PAID, rules.REFUNDED) else None
    status, credited, refunded = money(transfers, start=start, paid_by=settled)
    first_ok = next((i for i, ok in enumerate(amounts) if ok), None)
    if start == rules.PENDING and first_ok is not None:
        assert credited == f"t{first_ok}" and status == rules.PAID
        assert refunded == {f"t{i}" for i in range(len(amounts)) if i != first_ok}
    elif start == rules.PENDING:
        assert (status, credited, refunded) == (rules.PENDING, None, {t for t, _kind, _ok in transfers})
    else:
        assert credited == settled and refunded == {t for t, _kind, _ok in transfers}


@given(notifications)
def test_no_paid_transfer_is_kept_without_crediting_the_request(sequence):
    """Whatever arrives, in whatever order and repeated: every transaction seen as "paid" is either the one credited
    or sent back (never both)."""
    _status, credited, refunded = money(sequence)
    paid = {transaction for transaction, kind, _ok in sequence if kind == rules.KIND_PAID}
    assert paid == refunded | ({credited} if credited else set())
    assert credited not in refunded


def test_a_wrong_amount_on_an_open_request_is_refunded_and_the_request_stays_open():
    decision = rules.decide(rules.PENDING, rules.KIND_PAID, amount_matches=False)
    assert decision == rules.Decision(rules.PENDING, rules.MISMATCH, refund=True)
    # Its refund confirmed: still open, still unpaid; the right amount then credits.
    confirmed = rules.decide(rules.PENDING, rules.KIND_REFUNDED, amount_matches=False, refund_requested=True,
                             refund_of_extra=True)
    assert confirmed == rules.Decision(rules.PENDING, rules.REFUND_CONFIRMED, complete_refund=True)
    assert rules.decide(confirmed.status, rules.KIND_PAID, amount_matches=True).credit


@given(st.sampled_from(KINDS), st.booleans())
def test_a_notification_that_matches_no_request_refunds_a_payment_and_nothing_else(kind, refund_requested):
    decision = rules.decide_unmatched(kind, refund_requested=refund_requested)
    assert not decision.credit and decision.status == ""
    assert decision.refund == (kind == rules.KIND_PAID)  # the money, and only money received, goes back
    if kind == rules.KIND_REFUNDED and refund_requested:
        assert decision == rules.Decision("", rules.REFUND_CONFIRMED, complete_refund=True)
    else:
        assert decision.outcome == rules.UNMATCHED and decision.outcome in rules.FLAGGED  # listed by reconciliation


@given(notifications)
def test_the_credited_transaction_is_never_sent_back_and_repeats_refund_nothing_more(sequence):
    _status, credited, refunded = money(sequence)
    assert credited is None or credited not in refunded
    doubled = [item for item in sequence for _ in (0, 1)]
    assert money(doubled) == money(sequence)


@given(st.integers(min_value=1, max_value=4))
def test_whatever_order_right_transfers_arrive_in_one_is_credited_and_the_others_refunded(count):
    transfers = [(f"t{i}", rules.KIND_PAID, True) for i in range(count)]
    for order in itertools.permutations(transfers):
        _status, credited, refunded = money(list(order))
        assert credited == order[0][0] and refunded == {t for t, _k, _ok in order[1:]}


def test_a_refund_we_asked_for_completes_it_and_nothing_moves_after():
    decision = rules.decide(rules.PAID, rules.KIND_REFUNDED, amount_matches=True, refund_requested=True)
    assert decision == rules.Decision(rules.REFUNDED, rules.REFUND_CONFIRMED, complete_refund=True)
    for kind in KINDS:
        assert rules.decide(rules.REFUNDED, kind, amount_matches=True).status == rules.REFUNDED
