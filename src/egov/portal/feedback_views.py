"""Pages of feedback and complaints (phản ánh, kiến nghị) and the public dossier look-up (tra cứu hồ sơ).

Citizens (``/feedback/``): send feedback signed in or anonymously with a contact; follow their own and reply when asked
for more (without an account: through the link sent to their contact, ``/feedback/reply/<token>/``); read and search
the published answers (``/feedback/answers/``, no sign-in). The concerned agency is named by typing part of its name
(``feedback_forms.AgencyPicker``), suggested as one types from ``/feedback/agencies.json``.
Officers (``/backoffice/feedback/``): their agency's feedback with deadline flags; one item with the actions allowed
now (accept, refuse, ask for more, record an answer the author gave another way, answer, publish), each a POST. A
citizen gets 403; another agency's item is 404.
Look-up (``/lookup/``, no sign-in): dossier code + applicant's personal ID number → status and appointment date only.
"""
import datetime as dt

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from egov.accounts.rules import rights_of
from egov.accounts.views import denied, officer_required
from egov.dossiers import services as dossier_services
from egov.kernel.client_address import client_address
from egov.kernel.paging import row_id
from egov.portal import feedback_forms as forms
from egov.portal import feedback_queries as queries
from egov.portal import feedback_services as services
from egov.portal.feedback_models import FeedbackStatus
from egov.registries import queries as registry_queries

BY = {"author": _("You"), "agency": _("The agency")}


def _thread(feedback) -> list[dict]:
    # Kept as ISO 8601 text in the sealed content; shown as the other pages show a time (Vietnam time, d/m/Y H:i).
    return [{"at": dt.datetime.fromisoformat(entry["at"]), "by": BY.get(entry["by"], entry["by"]), "text": entry["text"]}
            for entry in feedback.content().get("thread", [])]


# --- Citizens --------------------------------------------------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def feedback_home(request):
    """Gửi phản ánh, kiến nghị."""
    if request.method == "POST":
        form = forms.FeedbackForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                feedback = services.submit(user=request.user, client=client_address(request) or "",
                                           **form.arguments())
            except dossier_services.TooManyLookups as exc:
                # The dossier checks of this address are used up for now: say until when, keep what was typed.
                until = timezone.localtime(timezone.now() + dt.timedelta(seconds=exc.retry_after))
                form.add_error("dossier_code", gettext("Too many dossier codes have been checked from your "
                                                       "connection. Try again after %(time)s.")
                               % {"time": until.strftime("%H:%M")})
                response = render(request, "portal/feedback/form.html", {"form": form}, status=429)
                response["Retry-After"] = str(exc.retry_after)
                return response
            except services.InvalidInput as exc:
                form.show_service_error(exc)
            else:
                messages.success(request, gettext("Your feedback is sent. Its reference is %(reference)s.")
                                 % {"reference": feedback.reference})
                if request.user.is_authenticated:
                    return redirect("portal:feedback_mine_detail", reference=feedback.reference)
                return redirect("portal:feedback_sent", reference=feedback.reference)
        status = 400
    else:
        form, status = forms.FeedbackForm(user=request.user), 200
    return render(request, "portal/feedback/form.html", {"form": form}, status=status)


AGENCY_QUERY_MAX = 255  # characters: the longest agency name


@require_GET
def feedback_agencies(request):
    """``GET /feedback/agencies.json?q=<part of the name>&limit=<1-20>``: the agency picker's suggestions, active
    agencies whose name holds every word typed, diacritics optional, best first: ``{"agencies": [{"code", "name",
    "parent"}], "more": <whether more match>}``. Agency names are public: no sign-in, and browsers may keep an answer
    a few minutes; counted per client address (429 past the limit). Empty text gives no agencies; text longer than
    any name, or a limit that is no number, is a 400 problem."""
    from egov.api import problem

    text = request.GET.get("q", "")
    if len(text) > AGENCY_QUERY_MAX:
        return problem(400, gettext("The text is too long"),
                       gettext("Type at most %(count)s characters of the agency's name.") % {"count": AGENCY_QUERY_MAX})
    raw_limit = request.GET.get("limit", "").strip()
    if raw_limit and not (raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 4):
        return problem(400, gettext("The limit is not a number"),
                       gettext("Give the limit as a whole number from 1 to %(max)s.")
                       % {"max": registry_queries.AGENCY_SEARCH_LIMIT})
    limit = min(max(int(raw_limit or registry_queries.AGENCY_SEARCH_LIMIT), 1), registry_queries.AGENCY_SEARCH_LIMIT)
    try:
        found = queries.agencies_named(text, client=client_address(request) or "", limit=limit)
    except queries.TooManySearches as exc:
        response = problem(429, gettext("Too many searches"),
                           gettext("Too many searches have come from your connection. Try again in a minute."))
        response["Retry-After"] = str(exc.retry_after)
        return response
    response = JsonResponse({
        "agencies": [{"code": agency.code, "name": agency.name, "parent": agency.parent.name if agency.parent else ""}
                     for agency in found.agencies],
        "more": found.more}, json_dumps_params={"ensure_ascii": False})
    patch_cache_control(response, public=True, max_age=300)
    return response


@require_GET
def feedback_sent(request, reference):
    return render(request, "portal/feedback/sent.html", {"reference": reference})


@never_cache
@require_GET
def feedback_mine(request):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return render(request, "portal/feedback/mine.html", {"items": queries.of_author(request.user)})


def _render_mine_detail(request, feedback, *, reply_form=None, status=200):
    return render(request, "portal/feedback/mine_detail.html", {
        "feedback": feedback, "content": feedback.content(), "thread": _thread(feedback),
        "may_reply": feedback.status == FeedbackStatus.MORE_INFO,
        "reply_form": reply_form or forms.ReplyForm()}, status=status)


@never_cache
@require_GET
def feedback_mine_detail(request, reference):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return _render_mine_detail(request, queries.for_author(request.user, reference))


@require_POST
def feedback_reply(request, reference):
    feedback = queries.for_author(request.user, reference)
    form = forms.ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.reply(feedback.pk, user=request.user, **form.arguments())
        except services.TransitionRefused as exc:
            return denied(request, exc.reason, status=409)
        except services.InvalidInput as exc:
            form.show_service_error(exc)
        else:
            messages.success(request, gettext("Your reply is sent."))
            return redirect("portal:feedback_mine_detail", reference=feedback.reference)
    return _render_mine_detail(request, feedback, reply_form=form, status=400)


@never_cache
@require_http_methods(["GET", "POST"])
def feedback_reply_by_link(request, token):
    """An author without an account answers the agency's question through the link sent to their contact. Only the
    agency's question is shown: the link may have been forwarded, and the author's own words stay sealed."""
    try:
        feedback = services.feedback_for_reply_link(token)
    except services.NotAllowed as exc:
        return render(request, "portal/feedback/reply_link.html", {"problem": str(exc)}, status=410)
    form = forms.ReplyForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.reply_by_link(token, **form.arguments())
            except services.NotAllowed as exc:
                return render(request, "portal/feedback/reply_link.html", {"problem": str(exc)}, status=410)
            except services.InvalidInput as exc:
                form.show_service_error(exc)
            else:
                return render(request, "portal/feedback/reply_link.html",
                              {"sent": True, "reference": feedback.reference})
        status = 400
    questions = [entry for entry in feedback.content().get("thread", []) if entry.get("kind") == "question"]
    return render(request, "portal/feedback/reply_link.html", {
        "feedback": feedback, "question": questions[-1] if questions else None, "reply_form": form}, status=status)


@require_GET
def feedback_answers(request):
    """Published answers, searchable without diacritics."""
    query = (request.GET.get("q") or "").strip()[:200]
    after = row_id(request.GET.get("after", "")) or None
    page = queries.published(query, after_id=after)
    return render(request, "portal/feedback/answers.html", {"page": page, "query": query})


# --- Officers --------------------------------------------------------------------------------------------------------

def handler_required(view):
    """An officer (TOTP passed) of an agency whose role handles feedback; a citizen or another role gets 403."""

    @officer_required
    def wrapper(request, *args, **kwargs):
        if not request.user.agency_id or services.HANDLER_RIGHT not in rights_of(request.user.role):
            return denied(request, gettext("Only officers of the concerned agency may handle feedback."))
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


STATUS_FILTERS = [("", _("Open"))] + list(FeedbackStatus.choices)


@never_cache
@handler_required
@require_GET
def backoffice_list(request):
    status = request.GET.get("status") or None
    if status not in FeedbackStatus.values:
        status = None
    after = row_id(request.GET.get("after", "")) or None
    page = queries.agency_list(request.user, status=status, after_id=after)
    return render(request, "portal/feedback/backoffice_list.html",
                  {"page": page, "status": status or "", "filters": STATUS_FILTERS})


ACTIONS = {
    "accept": (_("Accept and handle"), forms.AcceptForm, "accept", (FeedbackStatus.SUBMITTED,)),
    "refuse": (_("Refuse"), forms.RefuseForm, "refuse", (FeedbackStatus.SUBMITTED,)),
    "ask-more": (_("Ask the author for more information"), forms.AskMoreForm, "ask_more",
                 (FeedbackStatus.SUBMITTED, FeedbackStatus.ACCEPTED)),
    "record-reply": (_("Record the author's answer received by phone, email, at the desk or by post"),
                     forms.RecordReplyForm, "record_reply", (FeedbackStatus.MORE_INFO,)),
    "answer": (_("Answer"), forms.AnswerForm, "answer",
               (FeedbackStatus.SUBMITTED, FeedbackStatus.ACCEPTED, FeedbackStatus.MORE_INFO)),
    "publish": (_("Publish the answer"), forms.PublishForm, "publish", (FeedbackStatus.ANSWERED,)),
}


def _render_backoffice_detail(request, feedback, *, bound=None, status=200):
    services.log_read(feedback, reader=request.user, purpose="back office: feedback page")
    actions = []
    for name, (label, form_class, _service, statuses) in ACTIONS.items():
        if feedback.status in statuses:
            form = bound if bound is not None and bound.prefix == name else form_class()
            actions.append({"name": name, "label": label, "form": form})
    now = timezone.now()
    due = queries.next_due(feedback)
    return render(request, "portal/feedback/backoffice_detail.html", {
        "feedback": feedback, "content": feedback.content(), "thread": _thread(feedback), "actions": actions,
        "due": due, "overdue": due is not None and due < now, "bound": bound}, status=status)


@never_cache
@handler_required
@require_GET
def backoffice_detail(request, reference):
    return _render_backoffice_detail(request, queries.for_officer(request.user, reference))


@handler_required
@require_POST
def backoffice_action(request, reference, action):
    feedback = queries.for_officer(request.user, reference)
    if action not in ACTIONS:
        raise Http404(gettext("There is no such action on feedback."))
    label, form_class, service, _statuses = ACTIONS[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            getattr(services, service)(feedback.pk, officer=request.user, **form.arguments())
        except services.TransitionRefused as exc:
            return denied(request, exc.reason, status=409)
        except services.NotAllowed as exc:
            return denied(request, str(exc))
        except services.InvalidInput as exc:
            form.show_service_error(exc)
        else:
            messages.success(request, gettext("Done: %(action)s.") % {"action": label})
            return redirect("portal:feedback_backoffice_detail", reference=feedback.reference)
    feedback.refresh_from_db()
    return _render_backoffice_detail(request, feedback, bound=form, status=400)


# --- Public dossier look-up ------------------------------------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def lookup(request):
    """Tra cứu hồ sơ: status and appointment date for a dossier code + the applicant's personal ID number."""
    if request.method != "POST":
        return render(request, "portal/feedback/lookup.html", {"form": forms.LookupForm()})
    form = forms.LookupForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/feedback/lookup.html", {"form": form}, status=400)
    try:
        result = dossier_services.lookup_status(form.cleaned_data["code"], form.cleaned_data["id_number"],
                                                client=client_address(request) or "")
    except dossier_services.TooManyLookups as exc:
        response = render(request, "portal/feedback/lookup.html", {"form": form, "limited": True,
                                                          "minutes": max(1, (exc.retry_after + 59) // 60)},
                          status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    context = {"form": form, "result": result, "no_match": result is None}
    return render(request, "portal/feedback/lookup.html", context, status=200 if result else 404)
