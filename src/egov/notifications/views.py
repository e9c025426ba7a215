"""The demo's outbox: what the platform would have sent by SMS or email (the demo sends no SMS).

Mounted only while ``settings.DEMO_OUTBOX`` holds (the outbox SMS backend, outside production; production refuses
that backend). It shows codes sent to any demo person: that is the point of a demo, and why production has none."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from egov.kernel.paging import row_id
from egov.notifications import queries, services
from egov.notifications.models import Language


def demo_outbox(request):
    if not settings.DEMO_OUTBOX:
        raise Http404
    raw = request.GET.get("before", "")
    before = row_id(raw)
    messages = queries.newest_messages(before_id=before)
    rows = [{"message": m, **m.content()} for m in messages]
    older = messages[-1].id if len(messages) == queries.OUTBOX_PAGE else None
    return render(request, "notifications/outbox.html", {"rows": rows, "older": older, "paged": before is not None})


# --- The applicant's notices (/my/notifications/) --------------------------------------------------------------------

@login_required
def my_notifications(request):
    """Thông báo của tôi: the signed-in account's own notices, newest first (``?before=<id>`` for older ones), the
    unread count, and the language the notices are written in."""
    raw = request.GET.get("before", "")
    before = row_id(raw)
    rows = queries.notifications_of(request.user, before_id=before, limit=queries.NOTIFICATIONS_PAGE + 1)
    page = rows[:queries.NOTIFICATIONS_PAGE]
    context = {
        "rows": page, "paged": before is not None, "bad_link": bool(raw) and before is None,
        "older": page[-1].id if len(rows) > queries.NOTIFICATIONS_PAGE else None,
        "unread": queries.unread_count(request.user), "language": services.language_of(request.user),
        "languages": Language.choices, "saved": request.GET.get("saved") == "1",
    }
    return render(request, "notifications/my_notifications.html", context, status=400 if context["bad_link"] else 200)


@login_required
@require_POST
def mark_read(request, notification_id: int):
    services.mark_read(request.user, notification_id)  # another account's notice: 404
    return redirect(f"{reverse('portal:my_notifications')}#notification-{notification_id}")


@login_required
@require_POST
def mark_all_read(request):
    services.mark_all_read(request.user)
    return redirect("portal:my_notifications")


@login_required
@require_POST
def set_language(request):
    language = request.POST.get("language", "")
    if language not in Language.values:
        return HttpResponseBadRequest(_("Choose Vietnamese or English."))
    services.set_language(request.user, language)
    return redirect(f"{reverse('portal:my_notifications')}?saved=1")
