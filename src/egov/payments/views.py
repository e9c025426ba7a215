"""The applicant's payment pages (``/payments/<dossier code>/``), the receipt, and the reconciliation reports.

Thin: find the dossier the way the dossier pages do (the applicant's own; anyone else 404), call one service, redirect
or render. Works without JavaScript: choosing a method is a form; the gateway's page sends the payer back here, where
the payment shows as being confirmed until the provider's callback credits it (reload to see).
"""
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from egov.accounts.views import denied
from egov.dossiers import queries as dossier_queries
from egov.dossiers.models import Status
from egov.payments import queries, services
from egov.payments.models import PaymentRequest


def _applicant_dossier(view):
    def wrapper(request, code, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        dossier = dossier_queries.for_applicant(request.user, code)  # someone else's dossier: 404
        return view(request, dossier, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@never_cache
@require_GET
@_applicant_dossier
def pay(request, dossier):
    """Nộp phí: the fee lines, the total, and the two ways to pay; the VietQR code once chosen."""
    payment = queries.current_request(dossier)
    if payment is None:
        raise Http404(_("This dossier has no fees."))
    context = {"dossier": dossier, "payment": payment, "returned": request.GET.get("returned") == "1",
               "fees_due": dossier.status == Status.FEES_DUE and payment.status == PaymentRequest.Status.PENDING}
    context["wrong_amount"] = queries.wrong_amount_refunds(payment) if context["fees_due"] else []
    if context["fees_due"] and payment.method == PaymentRequest.Method.VIETQR:
        from django.conf import settings

        from egov.payments import rules

        context.update({"vietqr": True, "bank": rules.bank_name(settings.PAYMENT_BANK_BIN),
                        "bank_account": settings.PAYMENT_BANK_ACCOUNT,
                        "bank_account_name": settings.PAYMENT_BANK_ACCOUNT_NAME,
                        "transfer_content": rules.transfer_content(payment.dossier_code)})
    return render(request, "payments/pay.html", context)


@require_POST
@_applicant_dossier
def pay_vietqr(request, dossier):
    try:
        services.choose_vietqr(dossier, user=request.user)
    except services.PaymentRefused as exc:
        return render(request, "payments/refused.html", {"dossier": dossier, "reason": exc.reason}, status=409)
    except services.NotAllowed as exc:
        return denied(request, str(exc))
    return redirect("payments:pay", code=dossier.code)


@require_POST
@_applicant_dossier
def pay_gateway(request, dossier):
    return_url = request.build_absolute_uri(reverse("payments:returned", kwargs={"code": dossier.code}))
    try:
        url = services.start_gateway_payment(dossier, user=request.user, return_url=return_url)
    except services.PaymentRefused as exc:
        return render(request, "payments/refused.html", {"dossier": dossier, "reason": exc.reason}, status=409)
    except services.NotAllowed as exc:
        return denied(request, str(exc))
    return redirect(url)  # the provider's pay page (another site)


@never_cache
@require_GET
@_applicant_dossier
def returned(request, dossier):
    """Back from the gateway: what the provider said is not trusted here (the address can be typed); the payment
    shows as being confirmed until its signed callback has been applied."""
    messages.info(request, _("Thank you. Your payment is being confirmed by the payment provider; this page shows it "
                             "as paid as soon as the confirmation arrives."))
    return redirect(reverse("payments:pay", kwargs={"code": dossier.code}) + "?returned=1")


@require_GET
@_applicant_dossier
def qr_svg(request, dossier):
    payment = queries.current_request(dossier)
    if payment is None or payment.status != PaymentRequest.Status.PENDING:
        raise Http404(_("Nothing to pay."))
    response = HttpResponse(queries.vietqr_svg(payment), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def receipt(request, code):
    """The e-receipt: for the applicant, and for officers of the receiving agency."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if getattr(request.user, "is_officer", False):
        if not request.user.is_verified():
            return denied(request, _("Sign in with your second factor first."))
        dossier = dossier_queries.for_officer(request.user, code)
    else:
        dossier = dossier_queries.for_applicant(request.user, code)
    payment = queries.current_request(dossier)
    if payment is None:
        raise Http404(_("This dossier has no fees."))
    try:
        content = services.receipt_pdf(payment, reader=request.user)
    except services.PaymentRefused as exc:
        return render(request, "payments/refused.html", {"dossier": dossier, "reason": exc.reason}, status=409)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{dossier.code}-bien-lai.pdf"'
    return response


@never_cache
@require_GET
def reconciliation(request):
    """Đối soát: the daily reports, for platform administrators."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_staff:
        return denied(request, _("Reconciliation reports are for platform administrators."))
    return render(request, "payments/reconciliation.html", {"reports": queries.reports()})


@csrf_exempt
def bench_hmac_reference(request):
    """The payments benchmark's reference (mounted only with EGOV_BENCH_BARE_VIEW=1): a bare view that checks the
    callback's signature exactly as the real endpoint does, and nothing else."""
    import time

    from django.conf import settings
    from django.http import JsonResponse

    from egov.payments import rules

    problem = rules.signature_problem(settings.PAYMENT_SECRETS["gateway"], request.headers.get(rules.TIMESTAMP_HEADER),
                                      request.headers.get(rules.SIGNATURE_HEADER), request.body, now=time.time(),
                                      window_seconds=settings.PAYMENT_CALLBACK_WINDOW_SECONDS)
    return JsonResponse({"status": "refused" if problem else "accepted"}, status=401 if problem else 200)
