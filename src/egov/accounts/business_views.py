"""Business account pages: "My businesses" (open a business account by enterprise code) and one business's page
(who acts for it; the legal representative authorises and revokes staff). Views stay thin: parse, call a business
service, render the result or the error. Input errors re-render the page with what was typed (never a 500)."""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from egov.accounts import business_queries, business_services
from egov.accounts.business_forms import AuthoriseStaffForm, OpenBusinessAccountForm
from egov.accounts.models import AssuranceLevel
from egov.accounts.rules import meets_assurance
from egov.accounts.services import AssuranceTooLow
from egov.accounts.views import denied
from egov.registries import queries as registry_queries


def personal_account_required(view):
    """Anonymous → sign-in page; officer accounts → 403 (they act for their agency, never for a business)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.user.is_officer:
            return denied(request, _("Business accounts are opened with a personal account. Officer accounts act "
                                     "for their agency only."))
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@personal_account_required
def my_businesses(request):
    """Doanh nghiệp của tôi: the enterprises this account acts for, and opening a business account by code."""
    user = request.user
    form = OpenBusinessAccountForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                membership, created = business_services.open_business_account(user, form.cleaned_data[
                    "enterprise_code"])
            except business_services.BusinessAccountError as exc:
                form.add_error("enterprise_code", exc.reason)
            except (business_services.BusinessAccountDenied, AssuranceTooLow) as exc:
                form.add_error("enterprise_code", exc.reason)
                status = 403
            else:
                enterprise = membership.enterprise
                messages.success(request, _("The business account of %(name)s is open.") % {"name": enterprise.name}
                                 if created else _("The business account of %(name)s was already open.")
                                 % {"name": enterprise.name})
                return redirect("business:detail", code=enterprise.code)
    memberships = business_queries.enterprises_of(user)
    verified = meets_assurance(user.assurance_level, AssuranceLevel.VERIFIED)
    open_ids = {m.enterprise_id for m in memberships}
    # Enterprises the registry says this person represents, not opened yet: one button each (level 2 only, since
    # opening needs it anyway).
    unopened = [e for e in registry_queries.enterprises_represented_by(user.person_id)
                if e.pk not in open_ids] if verified else []
    context = {"form": form, "memberships": memberships, "unopened": unopened, "verified": verified}
    return render(request, "accounts/business/list.html", context, status=status)


def _enterprise_or_404(code: str):
    try:
        return business_services.find_enterprise(code)
    except business_services.BusinessAccountError as exc:
        raise Http404(exc.reason) from None


@never_cache
@personal_account_required
def business_detail(request, code: str):
    """Trang doanh nghiệp: for whoever acts for the enterprise; the representative also manages staff here."""
    user = request.user
    enterprise = _enterprise_or_404(code)
    membership = business_queries.membership_of(user, enterprise)
    if membership is None:
        return denied(request, _("You do not act for this enterprise. Its legal representative can authorise you."))
    is_representative = membership.role == membership.Role.REPRESENTATIVE
    form = AuthoriseStaffForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not is_representative:
            return denied(request, _("Only the legal representative authorises staff."))
        status = 400
        if form.is_valid():
            try:
                staff, created = business_services.authorise_staff(user, enterprise, form.cleaned_data["staff"])
            except business_services.BusinessAccountError as exc:
                form.add_error("staff", exc.reason)
            except (business_services.BusinessAccountDenied, AssuranceTooLow) as exc:
                return denied(request, exc.reason)
            else:
                who = staff.user.get_full_name() or staff.user.username
                messages.success(request, _("%(who)s may now act for %(name)s.") % {"who": who, "name": enterprise.name}
                                 if created else _("%(who)s was already authorised.") % {"who": who})
                return redirect("business:detail", code=enterprise.code)
    context = {"enterprise": enterprise, "membership": membership, "is_representative": is_representative,
               "members": business_queries.members_of(enterprise), "form": form,
               "can_manage": is_representative and enterprise.status == enterprise.Status.ACTIVE}
    return render(request, "accounts/business/detail.html", context, status=status)


@require_POST
@personal_account_required
def revoke_staff(request, code: str, membership_id: int):
    """Thu hồi ủy quyền: a POST (with its CSRF token) from the revoke button on the business page."""
    enterprise = _enterprise_or_404(code)
    try:
        membership, revoked = business_services.revoke_staff(request.user, enterprise, membership_id)
    except (business_services.BusinessAccountDenied, AssuranceTooLow) as exc:
        return denied(request, exc.reason)
    except business_services.BusinessAccountError as exc:
        return denied(request, exc.reason, status=404)
    who = membership.user.get_full_name() or membership.user.username
    messages.success(request, _("%(who)s no longer acts for %(name)s.") % {"who": who, "name": enterprise.name})
    return redirect("business:detail", code=enterprise.code)
