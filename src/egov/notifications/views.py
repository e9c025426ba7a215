"""The demo's outbox: what the platform would have sent by SMS or email (the demo sends no SMS).

Mounted only while ``settings.DEMO_OUTBOX`` holds (the outbox SMS backend, outside production; production refuses
that backend). It shows codes sent to any demo person: that is the point of a demo, and why production has none."""
from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from egov.notifications import queries


def demo_outbox(request):
    if not settings.DEMO_OUTBOX:
        raise Http404
    raw = request.GET.get("before", "")
    before = int(raw) if raw.isdigit() else None
    messages = queries.newest_messages(before_id=before)
    rows = [{"message": m, **m.content()} for m in messages]
    older = messages[-1].id if len(messages) == queries.OUTBOX_PAGE else None
    return render(request, "notifications/outbox.html", {"rows": rows, "older": older, "paged": before is not None})
