"""Reads of feedback and complaints: the agency's list with deadline flags (key-paged), one item for an officer of the
concerned agency (another agency's: 404), the author's own, and the published answers (folded search)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone

from egov.kernel import calendar
from egov.kernel.text import fold
from egov.portal.feedback_models import Feedback, FeedbackStatus

OPEN = (FeedbackStatus.SUBMITTED, FeedbackStatus.ACCEPTED, FeedbackStatus.MORE_INFO, FeedbackStatus.ANSWERED)


def next_due(feedback: Feedback) -> dt.datetime | None:
    """The deadline the agency works against now: decide (new), answer (accepted), publish (answered); none while
    the author is asked for more, or once closed."""
    return {FeedbackStatus.SUBMITTED: feedback.refuse_due, FeedbackStatus.ACCEPTED: feedback.answer_due,
            FeedbackStatus.ANSWERED: feedback.publish_due}.get(feedback.status)


def flag(feedback: Feedback, now: dt.datetime, near_limit: dt.datetime) -> str:
    due = next_due(feedback)
    if due is None:
        return ""
    if due < now:
        return "overdue"
    if due <= near_limit:
        return "near_deadline"
    return ""


@dataclass(frozen=True)
class Row:
    feedback: Feedback
    due: dt.datetime | None
    flag: str


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_after_id: int | None


def agency_list(officer, *, status: str | None = None, after_id: int | None = None, limit: int = 25,
                now: dt.datetime | None = None) -> Page:
    """Phản ánh của đơn vị: open items by default, newest first, with their deadline flag."""
    now = now or timezone.now()
    rows = Feedback.objects.filter(agency_id=officer.agency_id).select_related("agency")
    rows = rows.filter(status=status) if status else rows.filter(status__in=OPEN)
    if after_id:
        rows = rows.filter(id__lt=after_id)
    page = list(rows.order_by("-id")[: limit + 1])
    next_after = page[limit - 1].id if len(page) > limit else None
    near_limit = calendar.add_working_days(now, 1, officer.agency)
    return Page(rows=[Row(f, next_due(f), flag(f, now, near_limit)) for f in page[:limit]], next_after_id=next_after)


def for_officer(officer, reference: str) -> Feedback:
    feedback = Feedback.objects.select_related("agency", "dossier").filter(
        reference=reference, agency_id=officer.agency_id).first()
    if feedback is None:
        raise Http404("no such feedback in your agency")
    return feedback


def for_author(user, reference: str) -> Feedback:
    feedback = Feedback.objects.select_related("agency", "dossier").filter(reference=reference, author=user).first() \
        if getattr(user, "is_authenticated", False) else None
    if feedback is None:
        raise Http404("no such feedback of yours")
    return feedback


def of_author(user, *, limit: int = 50) -> list[Feedback]:
    return list(Feedback.objects.filter(author=user).select_related("agency").order_by("-id")[:limit])


def published(query: str = "", *, after_id: int | None = None, limit: int = 20) -> Page:
    """Published answers, newest first; every folded word of ``query`` must appear ("thu tuc dat dai" finds
    "thủ tục đất đai")."""
    rows = Feedback.objects.filter(status=FeedbackStatus.PUBLISHED).select_related("agency")
    for word in fold(query or "").split()[:10]:
        rows = rows.filter(search_key__contains=word)
    if after_id:
        rows = rows.filter(id__lt=after_id)
    page = list(rows.order_by("-id")[: limit + 1])
    next_after = page[limit - 1].id if len(page) > limit else None
    return Page(rows=[Row(f, None, "") for f in page[:limit]], next_after_id=next_after)


# --- The concerned agency, by name (the feedback form's suggestions) ------------------------------------------------

# Suggestions asked from one client address per minute, counted in the shared store: a person typing asks a few a
# second at most (the picker waits for a pause in the typing); an office behind one address shares the budget.
AGENCY_SEARCHES_PER_MINUTE = 240


class TooManySearches(Exception):
    """The client address asked for its suggestions for now (HTTP 429); ``retry_after`` in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def agencies_named(text: str, *, client: str, limit: int):
    """``registries.queries.search_agencies`` for a public caller: one hit counted for its address first (past
    AGENCY_SEARCHES_PER_MINUTE: ``TooManySearches``). Nothing counted or read for text without a word."""
    from egov.kernel import ratelimit
    from egov.registries import queries as registry_queries

    if not registry_queries.agency_query_words(text):
        return registry_queries.AgencyMatches([], 0, False)
    decision = ratelimit.hit(f"agency-search:{client or '-'}"[:100], limit=AGENCY_SEARCHES_PER_MINUTE,
                             window_seconds=60)
    if not decision.allowed:
        raise TooManySearches(decision.retry_after)
    return registry_queries.search_agencies(text, limit)
