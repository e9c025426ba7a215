"""Pure rules of the one-stop system (no I/O): the status transition table, who may move a dossier, dossier codes,
step and dossier verdicts (early / on time / late).

The transition table is DOMAIN.md's default rule set. Like every legal rule it is configuration with an effective
date: ``RULE_SETS`` lists the tables in force from their dates, and ``rule_set(on)`` picks the one in force on a day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from egov.kernel.calendar_rules import to_vn

# Status codes (mirrors models.Status; kept here so the rules need no Django model).
SUBMITTED, RECEIVED, REFUSED, PROCESSING, SUPPLEMENT_REQUESTED, FEES_DUE = 1, 2, 3, 4, 5, 6
WITHDRAWAL_REQUESTED, STOPPED, RESULT_READY, DELIVERED = 7, 8, 9, 10
NEW = None  # "(none)": the dossier does not exist yet

STATUS_LABELS = {
    SUBMITTED: gettext_lazy("Submitted online, not yet received"),
    RECEIVED: pgettext_lazy("dossier status", "Received"),
    REFUSED: gettext_lazy("Not received"),
    PROCESSING: gettext_lazy("Being processed"),
    SUPPLEMENT_REQUESTED: gettext_lazy("Supplement requested"),
    FEES_DUE: gettext_lazy("Fees or taxes due"),
    WITHDRAWAL_REQUESTED: gettext_lazy("Applicant asked to withdraw"),
    STOPPED: gettext_lazy("Processing stopped"),
    RESULT_READY: gettext_lazy("Result ready"),
    DELIVERED: gettext_lazy("Result delivered"),
}
FINAL = frozenset({REFUSED, STOPPED, DELIVERED})
TEXT_MAX_CHARS = 2000  # a reason or a note, as written on a form and kept in the history
LINE_MAX_CHARS = 500   # one reason for refusing, or one missing item, of a list printed on form 02 or 03
SUPPLY_MAX_FILES = 30  # files in one supplement: a document of many pages is one PDF, not a file per page

# The document a transition issued (``Transition.form``), as the history names it: the one-stop forms by their number
# and purpose (Decree 118/2025), the rest by what they are.
DOCUMENT_LABELS = {
    "ack": gettext_lazy("Acknowledgement of the online application"),
    "01": gettext_lazy("Form 01: receipt and appointment slip"),
    "02": gettext_lazy("Form 02: request to supplement the dossier"),
    "03": gettext_lazy("Form 03: refusal to receive the dossier"),
    "04": gettext_lazy("Form 04: apology and new appointment date"),
    "05": gettext_lazy("Form 05: notice of stopping"),
    "06": gettext_lazy("Form 06: process-control slip"),
    "fees": gettext_lazy("Notice of fees due"),
    "receipt": gettext_lazy("Payment receipt"),
    "draft": gettext_lazy("Draft result (unsigned)"),
    "result": gettext_lazy("Result"),
    "delivery": gettext_lazy("Delivery of the result"),
    "notice": gettext_lazy("Notice to the applicant"),
    "registry": gettext_lazy("Population registry updated"),
}

# Recorded in the dossier's history for the agency only: the applicant's timeline leaves them out (a draft result is
# the agency's working paper until the last step approves it and it is signed).
OFFICE_ONLY_DOCUMENTS = frozenset({"draft"})

ACTION_LABELS = {
    "submit": gettext_lazy("Submit online"), "intake": gettext_lazy("Receive at the desk"),
    "receive": gettext_lazy("Receive"), "refuse": gettext_lazy("Refuse to receive"),
    "request-supplement": gettext_lazy("Request a supplement"), "supply": gettext_lazy("Supply the missing items"),
    "transfer": gettext_lazy("Transfer for processing"), "request-fees": gettext_lazy("Request fees"),
    "record-payment": gettext_lazy("Record the payment"), "complete-step": gettext_lazy("Complete the step"),
    "deliver": gettext_lazy("Deliver the result"), "request-withdrawal": gettext_lazy("Ask to withdraw"),
    "confirm-withdrawal": gettext_lazy("Confirm the withdrawal"), "stop": gettext_lazy("Stop processing"),
}

# Who acts. "applicant": the applicant's own account (a desk officer may act on the applicant's behalf where
# marked). Officer roles are accounts.models.Role values.
APPLICANT = "applicant"
DESK = "desk_officer"
SPECIALIST = "specialist"
HEAD = "head_of_unit"
LEADER = "agency_leader"
PROCESSORS = frozenset({SPECIALIST, HEAD, LEADER})
OFFICER_ROLES = frozenset({DESK, SPECIALIST, HEAD, LEADER})
# The payment system (egov.payments) credits fees it has verified (a signed gateway or bank notification): 6 → 4.
PAYMENT_SYSTEM = "payment_system"
PLATFORM = "platform"  # the platform itself: delivers a signed result online when the applicant chose so


class Clock:
    """What a transition does to the legal clock."""
    NOT_STARTED = "not_started"
    STARTS = "starts"
    RUNS = "runs"
    PAUSES = "pauses"
    RESUMES = "resumes"
    STOPS = "stops"
    UNCHANGED = "unchanged"


# Not issued by the agency but rendered beside its forms: the declaration (tờ khai) an online dossier's e-form answers
# stand for (``Dossier.declaration_from_answers``).
EFORM_DECLARATION = "tk"


@dataclass(frozen=True)
class Transition:
    source: int | None
    target: int
    actors: frozenset[str]
    form: str = ""            # the document issued: "01".."05", "result", "" (none)
    clock: str = Clock.UNCHANGED
    action: str = ""          # the service (and back-office action) that performs it


def _t(source, target, actors, form, clock, action) -> Transition:
    return Transition(source, target, frozenset(actors), form, clock, action)


_DEFAULT_2025 = (
    _t(NEW, SUBMITTED, {APPLICANT}, "ack", Clock.NOT_STARTED, "submit"),
    _t(NEW, RECEIVED, {DESK}, "01", Clock.STARTS, "intake"),
    _t(SUBMITTED, RECEIVED, {DESK}, "01", Clock.STARTS, "receive"),
    _t(SUBMITTED, REFUSED, {DESK}, "03", Clock.STOPS, "refuse"),
    _t(SUBMITTED, SUPPLEMENT_REQUESTED, {DESK}, "02", Clock.NOT_STARTED, "request-supplement"),
    _t(SUPPLEMENT_REQUESTED, SUBMITTED, {APPLICANT, DESK}, "", Clock.NOT_STARTED, "supply"),
    _t(RECEIVED, PROCESSING, {DESK}, "06", Clock.RUNS, "transfer"),
    _t(PROCESSING, SUPPLEMENT_REQUESTED, {SPECIALIST, HEAD}, "02", Clock.PAUSES, "request-supplement"),
    _t(SUPPLEMENT_REQUESTED, PROCESSING, {APPLICANT, DESK}, "", Clock.RESUMES, "supply"),
    _t(PROCESSING, FEES_DUE, {SPECIALIST, HEAD}, "fees", Clock.PAUSES, "request-fees"),
    _t(FEES_DUE, PROCESSING, {DESK, PAYMENT_SYSTEM}, "receipt", Clock.RESUMES, "record-payment"),
    _t(PROCESSING, RESULT_READY, PROCESSORS, "result", Clock.STOPS, "complete-step"),
    _t(RESULT_READY, DELIVERED, {DESK, PLATFORM}, "delivery", Clock.UNCHANGED, "deliver"),
    *(_t(s, WITHDRAWAL_REQUESTED, {APPLICANT}, "", Clock.UNCHANGED, "request-withdrawal")
      for s in (SUBMITTED, RECEIVED, PROCESSING, SUPPLEMENT_REQUESTED, FEES_DUE)),
    _t(WITHDRAWAL_REQUESTED, STOPPED, {DESK, LEADER}, "05", Clock.STOPS, "confirm-withdrawal"),
    *(_t(s, STOPPED, {HEAD, LEADER}, "05", Clock.STOPS, "stop")
      for s in (RECEIVED, PROCESSING, SUPPLEMENT_REQUESTED, FEES_DUE)),
)

# (in force from, table). Add a new table with its date when the law changes; never edit a past one.
RULE_SETS: tuple[tuple[dt.date, tuple[Transition, ...]], ...] = (
    (dt.date(2025, 7, 1), _DEFAULT_2025),  # Decree 118/2025/ND-CP, Circular 03/2025/TT-VPCP
)

# "7 → previous status": the agency refuses the withdrawal; the dossier goes back to where it was.
REFUSE_WITHDRAWAL_ACTORS = frozenset({DESK, LEADER})
WITHDRAWABLE = frozenset({SUBMITTED, RECEIVED, PROCESSING, SUPPLEMENT_REQUESTED, FEES_DUE})
# Form 04 (apology and new date): an event, once per dossier, while in these statuses, before the appointment.
APOLOGY_STATUSES = frozenset({PROCESSING, SUPPLEMENT_REQUESTED, FEES_DUE})
APOLOGY_ACTORS = frozenset({HEAD, LEADER})


class TransitionRefused(Exception):
    """A move the rules forbid: the reason says why, in words an officer understands (HTTP 409)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def rule_set(on: dt.date) -> tuple[Transition, ...]:
    in_force = [table for start, table in RULE_SETS if start <= on]
    if not in_force:
        return RULE_SETS[0][1]  # before the first table: the oldest rules we know
    return in_force[-1]


def label(status: int | None) -> str:
    return str(STATUS_LABELS[status]) if status in STATUS_LABELS else _("(new)")


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def find_transition(source: int | None, target: int, *, on: dt.date) -> Transition | None:
    for transition in rule_set(on):
        if transition.source == source and transition.target == target:
            return transition
    return None


def require_transition(source: int | None, target: int, *, actor_role: str, on: dt.date) -> Transition:
    """The transition from ``source`` to ``target`` for someone acting as ``actor_role``, or TransitionRefused."""
    transition = find_transition(source, target, on=on)
    if transition is None:
        if source in FINAL:
            raise TransitionRefused(_("The dossier is closed (%(status)s): nothing more can happen to it.")
                                    % {"status": label(source)})
        allowed = sorted({t.target for t in rule_set(on) if t.source == source})
        raise TransitionRefused(
            _("A dossier in status “%(source)s” cannot move to “%(target)s”. From here it can move to: %(allowed)s.")
            % {"source": label(source), "target": label(target),
               "allowed": ", ".join(f"“{label(s)}”" for s in allowed) or _("nothing")})
    if actor_role not in transition.actors:
        raise TransitionRefused(_("Moving a dossier from “%(source)s” to “%(target)s” is not for your role.")
                                % {"source": label(source), "target": label(target)})
    return transition


def allowed_targets(source: int | None, *, actor_role: str, on: dt.date) -> list[Transition]:
    return [t for t in rule_set(on) if t.source == source and actor_role in t.actors]


def require_apology_allowed(status: int, *, actor_role: str, already_rescheduled: bool, appointment_at: dt.datetime,
                            new_appointment_at: dt.datetime, at: dt.datetime) -> None:
    """Form 04: once per dossier, while in 4, 5 or 6, before the current appointment date, to a later date."""
    if status not in APOLOGY_STATUSES:
        raise TransitionRefused(_("An apology with a new date is issued only while the dossier is being processed, "
                                  "waiting for a supplement or for fees (now: “%(status)s”).") % {"status": label(status)})
    if actor_role not in APOLOGY_ACTORS:
        raise TransitionRefused(_("Only the head of unit or the agency leader issues an apology with a new date."))
    if already_rescheduled:
        raise TransitionRefused(_("This dossier has already been given a new date once; it cannot be rescheduled again."))
    if at >= appointment_at:
        raise TransitionRefused(_("The apology must be issued before the appointment date; that date has passed."))
    if new_appointment_at <= appointment_at:
        raise TransitionRefused(_("The new appointment date must be later than the current one."))


# --- Dossier codes -------------------------------------------------------------------------------------------------

def dossier_code(agency_code: str, day: dt.date, sequence: int) -> str:
    """Mã hồ sơ: ``{agency code}-{yyMMdd}-{NNNN}``; past 9,999 in one day the sequence widens (five digits and more)
    rather than failing."""
    if sequence < 1:
        raise ValueError("a dossier sequence starts at 1")
    return f"{agency_code}-{day:%y%m%d}-{sequence:04d}"


# --- Verdicts --------------------------------------------------------------------------------------------------------

EARLY, ON_TIME, LATE = "early", "on_time", "late"
VERDICT_LABELS = {EARLY: gettext_lazy("Early"), ON_TIME: gettext_lazy("On time"), LATE: gettext_lazy("Late")}


def verdict(done_at: dt.datetime, due_at: dt.datetime) -> str:
    """Trước hạn / đúng hạn / quá hạn: late after the due instant; early when done on a day before the due day
    (in Vietnam's time zone); otherwise on time."""
    if done_at > due_at:
        return LATE
    if to_vn(done_at).date() < to_vn(due_at).date():
        return EARLY
    return ON_TIME


def is_near_deadline(now: dt.datetime, due_at: dt.datetime, remaining_working_hours: float,
                     threshold_hours: float = 8.0) -> bool:
    """Sắp đến hạn: not overdue yet, with at most ``threshold_hours`` working hours (one working day) left."""
    return now <= due_at and remaining_working_hours <= threshold_hours
