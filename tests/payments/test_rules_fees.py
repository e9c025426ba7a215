"""Fees that count an e-form answer (copies, pages): the pure rule that makes a payment request's lines."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.payments import rules

CRIMINAL_RECORD = {"code": "PHI_LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000,
                   "per": "copies", "unit": "bản", "included": 2, "unit_amount": 5000}
CERTIFIED_COPY = [
    {"code": "LP_CT", "name": "Phí chứng thực bản sao, trang 1–2", "amount": 2000, "per": "pages", "unit": "trang",
     "included": 1, "up_to": 2, "unit_amount": 2000, "times": "copies", "times_unit": "bản"},
    {"code": "LP_CT3", "name": "Phí chứng thực bản sao, từ trang thứ ba", "amount": 0, "per": "pages",
     "unit": "trang", "included": 2, "unit_amount": 1000, "times": "copies", "times_unit": "bản"},
]


def test_from_the_third_copy_each_copy_costs_5000_more():
    lines = rules.fee_lines([CRIMINAL_RECORD], {"copies": 5})
    assert lines == [{"type": "fee", "code": "PHI_LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp (5 bản)",
                      "amount": 215000}]
    assert rules.total(lines) == 215000
    assert [rules.total(rules.fee_lines([CRIMINAL_RECORD], {"copies": n})) for n in (1, 2, 3)] == [
        200000, 200000, 205000]


def test_a_per_page_fee_counts_the_pages_of_every_copy_with_a_cheaper_rate_from_the_third_page():
    def charged(pages, copies):
        return [line["amount"] for line in rules.fee_lines(CERTIFIED_COPY, {"pages": pages, "copies": copies})]

    assert charged(1, 1) == [2000]   # the second tier, not reached, asks for nothing: no line
    assert charged(2, 1) == [4000]
    assert charged(3, 2) == [8000, 2000]   # (2.000 + 2.000 + 1.000) × 2
    assert charged(10, 3) == [12000, 24000]
    assert rules.fee_lines(CERTIFIED_COPY, {"pages": 3, "copies": 2})[0]["name"] == (
        "Phí chứng thực bản sao, trang 1–2 (3 trang × 2 bản)")


@pytest.mark.parametrize("answer", [None, "", "năm", -1, True, 2.5, "2,5", [], {}])
def test_a_missing_or_invalid_answer_counts_as_the_minimum(answer):
    answers = {} if answer is None else {"copies": answer, "pages": answer}
    assert rules.fee_lines([CRIMINAL_RECORD], answers) == [
        {"type": "fee", "code": "PHI_LLTP", "name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000}]
    assert [line["amount"] for line in rules.fee_lines(CERTIFIED_COPY, answers)] == [2000]  # no 0 đồng tier line


def test_answers_as_a_form_sends_them_count_too():
    assert rules.total(rules.fee_lines([CRIMINAL_RECORD], {"copies": " 4 "})) == 210000
    assert rules.total(rules.fee_lines([CRIMINAL_RECORD], {"copies": "4.0"})) == 210000
    assert rules.total(rules.fee_lines([CRIMINAL_RECORD], {"copies": 4.0})) == 210000


def test_a_fixed_fee_ignores_the_answers_and_keeps_its_line_shape():
    fee = {"code": "LP", "name": "Lệ phí", "amount": 50000}
    assert rules.fee_lines([fee], {"copies": 9}) == [{"type": "fee", "code": "LP", "name": "Lệ phí", "amount": 50000}]
    assert rules.counted_fields([fee]) == set()
    assert rules.counted_fields([CRIMINAL_RECORD, *CERTIFIED_COPY]) == {"copies", "pages"}


def test_a_negative_amount_is_refused():
    with pytest.raises(ValueError):
        rules.fee_lines([{**CRIMINAL_RECORD, "unit_amount": -5000}], {"copies": 3})


fees = st.fixed_dictionaries({
    "code": st.just("F"), "name": st.just("Phí"), "amount": st.integers(0, 10**7),
}, optional={
    "per": st.just("n"), "unit": st.just("bản"), "included": st.integers(0, 20),
    "unit_amount": st.integers(0, 10**6), "up_to": st.integers(21, 60), "times": st.just("m"),
})
answer = st.one_of(st.none(), st.integers(-5, 100), st.text(max_size=4), st.booleans(), st.floats(-5, 100))


@given(st.lists(fees, max_size=4), answer, answer)
def test_the_total_is_the_sum_of_the_lines_and_never_below_the_fixed_amounts(fee_list, n, m):
    lines = rules.fee_lines(fee_list, {"n": n, "m": m})
    assert rules.total(lines) == sum(line["amount"] for line in lines)
    # Every fee has its line, at least its fixed amount; only a counted fee that comes to nothing has none.
    by_fee = [rules.fee_line(fee, {"n": n, "m": m}) for fee in fee_list]
    assert all(line["amount"] >= fee["amount"] and isinstance(line["amount"], int)
               for fee, line in zip(fee_list, by_fee, strict=True))
    assert lines == [line for fee, line in zip(fee_list, by_fee, strict=True)
                     if line["amount"] or not (fee.get("per") or fee.get("times"))]


@given(st.lists(fees, min_size=1, max_size=4), st.integers(0, 100), st.integers(0, 100), st.integers(0, 20),
       st.integers(0, 20))
def test_more_units_never_cost_less(fee_list, n, more_n, m, more_m):
    def total(n, m):
        return rules.total(rules.fee_lines(fee_list, {"n": n, "m": m}))

    assert total(n, m) <= total(n + more_n, m)
    assert total(n, m) <= total(n, m + more_m)
