"""Sign-in with the national eID (VNeID): the redirect to the provider and the way back. Thin: the protocol is in
``accounts.eid``, the decisions in ``accounts.eid_services``; every failure ends on the sign-in page with a message
that says what went wrong."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from egov.accounts import eid, eid_services

SESSION_KEY = "egov_eid_pending"
BACKEND = "egov.accounts.backends.AccountBackend"


def _safe_next(request, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL) if ":" in settings.LOGIN_REDIRECT_URL else settings.LOGIN_REDIRECT_URL


def _callback_uri(request) -> str:
    # Registered with the provider; behind a proxy that rewrites the host, set EGOV_EID_REDIRECT_URI.
    return getattr(settings, "EID_REDIRECT_URI", "") or request.build_absolute_uri(reverse("eid:callback"))


def _refused(request, refusal: eid_services.EidRefused):
    messages.error(request, refusal.reason)
    return redirect("accounts:login")


@never_cache
@require_GET
def start(request):
    """Send the browser to the national eID, with a fresh state, nonce and PKCE verifier kept in the session."""
    provider = eid.configured()
    if provider is None:
        raise Http404("national eID not configured")
    user = request.user if request.user.is_authenticated else None
    try:
        url, pending = eid.begin(provider, _callback_uri(request))
    except eid.EidError as error:
        return _refused(request, eid_services.protocol_refusal(error, user=user))
    pending["next"] = _safe_next(request, request.GET.get(REDIRECT_FIELD_NAME, ""))
    request.session[SESSION_KEY] = pending
    return HttpResponseRedirect(url)


@never_cache
@require_GET
def callback(request):
    """The provider sends the browser back here with a code (or an error). The pending sign-in is taken out of the
    session first, so a state or code can never be used twice."""
    provider = eid.configured()
    if provider is None:
        raise Http404("national eID not configured")
    pending = request.session.pop(SESSION_KEY, None)
    user = request.user if request.user.is_authenticated else None
    try:
        assertion = eid.finish(provider, pending if isinstance(pending, dict) else None, request.GET,
                               _callback_uri(request))
    except eid.EidError as error:
        return _refused(request, eid_services.protocol_refusal(error, user=user))
    try:
        account = eid_services.sign_in_with_eid(assertion, current_user=user)
    except eid_services.EidRefused as refusal:
        return _refused(request, refusal)
    if user is None or user.pk != account.pk:
        login(request, account, backend=BACKEND)  # rotates the session key
    else:
        messages.success(request, _("Your identity is verified with the national eID: your account is now at "
                                    "level 2."))
    return HttpResponseRedirect(_safe_next(request, pending.get("next", "")))
