"""The status table of DOMAIN.md, the dossier code and the verdicts, as pure rules."""
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.dossiers import rules
from egov.kernel.calendar_rules import VN_TZ

ON = dt.date(2026, 3, 2)
STATUSES = list(range(1, 11))

# DOMAIN.md's table, written out by hand: (from, to) -> who. "6 → 4 paid": the desk records cash, the payment system
# (egov.payments) credits a verified online payment. "9 → 10 delivered": the desk, or the platform itself online when
# the applicant chose so.
EXPECTED = {
    (None, 1): {"applicant"}, (None, 2): {"desk_officer"},
    (1, 2): {"desk_officer"}, (1, 3): {"desk_officer"}, (1, 5): {"desk_officer"}, (5, 1): {"applicant", "desk_officer"},
    (2, 4): {"desk_officer"}, (4, 5): {"specialist", "head_of_unit"}, (5, 4): {"applicant", "desk_officer"},
    (4, 6): {"specialist", "head_of_unit"}, (6, 4): {"desk_officer", "payment_system"},
    (4, 9): {"specialist", "head_of_unit", "agency_leader"}, (9, 10): {"desk_officer", "platform"},
    (1, 7): {"applicant"}, (2, 7): {"applicant"}, (4, 7): {"applicant"}, (5, 7): {"applicant"}, (6, 7): {"applicant"},
    (7, 8): {"desk_officer", "agency_leader"},
    (2, 8): {"head_of_unit", "agency_leader"}, (4, 8): {"head_of_unit", "agency_leader"},
    (5, 8): {"head_of_unit", "agency_leader"}, (6, 8): {"head_of_unit", "agency_leader"},
}


def test_the_table_is_domain_md_exactly():
    table = {(t.source, t.target): set(t.actors) for t in rules.rule_set(ON)}
    assert table == EXPECTED


@pytest.mark.parametrize("source", [None, *STATUSES])
@pytest.mark.parametrize("target", STATUSES)
def test_every_pair_is_allowed_for_its_actors_and_refused_otherwise(source, target):
    actors = EXPECTED.get((source, target), set())
    for role in ("applicant", "desk_officer", "specialist", "head_of_unit", "agency_leader"):
        if role in actors:
            assert rules.require_transition(source, target, actor_role=role, on=ON).target == target
        else:
            with pytest.raises(rules.TransitionRefused) as refused:
                rules.require_transition(source, target, actor_role=role, on=ON)
            assert refused.value.reason  # always says why


def test_results_ready_or_delivered_cannot_be_stopped():
    for status in (rules.RESULT_READY, rules.DELIVERED):
        assert rules.find_transition(status, rules.STOPPED, on=ON) is None


def test_final_statuses_lead_nowhere():
    for status in rules.FINAL:
        assert not [t for t in rules.rule_set(ON) if t.source == status]


def test_before_the_first_rule_set_the_oldest_rules_apply():
    assert rules.rule_set(dt.date(2020, 1, 1)) == rules.rule_set(ON)


@given(st.integers(min_value=1, max_value=999_999), st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_dossier_codes_follow_the_pattern_and_widen_past_9999(sequence, day):
    code = rules.dossier_code("000.00.14.H20", day, sequence)
    agency, date_part, number = code.rsplit("-", 2)
    assert agency == "000.00.14.H20" and date_part == day.strftime("%y%m%d")
    assert int(number) == sequence and len(number) == max(4, len(str(sequence)))


def test_the_example_code_of_domain_md():
    assert rules.dossier_code("000.00.14.H20", dt.date(2020, 7, 3), 2) == "000.00.14.H20-200703-0002"


instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2030, 1, 1),
                        timezones=st.just(VN_TZ))


@given(instants, instants)
def test_verdict_is_late_exactly_after_the_due_instant(done, due):
    verdict = rules.verdict(done, due)
    assert (verdict == rules.LATE) == (done > due)
    if verdict == rules.EARLY:
        assert done.date() < due.date()


def test_verdict_examples():
    due = dt.datetime(2026, 3, 9, 8, 0, tzinfo=VN_TZ)
    assert rules.verdict(dt.datetime(2026, 3, 6, 16, 0, tzinfo=VN_TZ), due) == rules.EARLY
    assert rules.verdict(dt.datetime(2026, 3, 9, 7, 45, tzinfo=VN_TZ), due) == rules.ON_TIME
    assert rules.verdict(dt.datetime(2026, 3, 9, 8, 1, tzinfo=VN_TZ), due) == rules.LATE
