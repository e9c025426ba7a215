"""Feedback deadlines are effective-dated configuration: the table in force on the day an item is received."""
import datetime as dt
from types import MappingProxyType

from hypothesis import given
from hypothesis import strategies as st

from egov.portal import feedback_rules


def test_the_tables_are_in_date_order_and_never_edited_in_place():
    starts = [start for start, _table in feedback_rules.DEADLINE_SETS]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(isinstance(table, MappingProxyType) for _start, table in feedback_rules.DEADLINE_SETS)


def test_the_deadlines_in_force_today_are_domains():
    assert dict(feedback_rules.deadline_days(dt.date(2026, 3, 2))) == {"refuse": 2, "more_info": 5, "answer": 15,
                                                                        "publish": 2}


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_an_item_gets_the_latest_table_that_started_on_or_before_its_day(day):
    table = feedback_rules.deadline_days(day)
    started = [start for start, candidate in feedback_rules.DEADLINE_SETS if candidate is table]
    later = [start for start, _ in feedback_rules.DEADLINE_SETS if start > (started[0] if started else day)]
    assert table in [t for _s, t in feedback_rules.DEADLINE_SETS]
    if day >= feedback_rules.DEADLINE_SETS[0][0]:
        assert started[0] <= day and all(start > day for start in later)


def test_a_later_table_governs_only_items_received_from_its_day(monkeypatch):
    shorter = MappingProxyType({"refuse": 1, "more_info": 3, "answer": 10, "publish": 1})
    monkeypatch.setattr(feedback_rules, "DEADLINE_SETS", (*feedback_rules.DEADLINE_SETS,
                                                          (dt.date(2027, 1, 1), shorter)))
    assert feedback_rules.deadline_days(dt.date(2026, 12, 31))["answer"] == 15
    assert feedback_rules.deadline_days(dt.date(2027, 1, 1))["answer"] == 10
