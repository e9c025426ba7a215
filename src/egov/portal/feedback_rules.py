"""Deadlines for handling feedback and complaints (phản ánh, kiến nghị), in the concerned agency's working days.

Like every rule that comes from a legal text (DOMAIN.md), they are configuration with an effective date: a feedback
item is handled under the table in force on the day it was received, to its end, even if the law changes meanwhile.
"""
from __future__ import annotations

import datetime as dt
from types import MappingProxyType

# refuse (or accept) ≤ 2, ask the author for more ≤ 5, answer ≤ 15 (from the author's reply when more was asked),
# publish ≤ 2 after answering.
_DECREE_20_2008 = MappingProxyType({"refuse": 2, "more_info": 5, "answer": 15, "publish": 2})

# (in force from, table). Add a new table with its date when the law changes; never edit a past one.
DEADLINE_SETS: tuple[tuple[dt.date, MappingProxyType], ...] = (
    (dt.date(2008, 2, 14), _DECREE_20_2008),  # Decree 20/2008/ND-CP as amended by Decree 92/2017/ND-CP [V]
)


def deadline_days(received_on: dt.date) -> MappingProxyType:
    """The working days allowed for each step of a feedback item received on ``received_on``."""
    in_force = [table for start, table in DEADLINE_SETS if start <= received_on]
    return in_force[-1] if in_force else DEADLINE_SETS[0][1]  # before the first table: the oldest rules we know
