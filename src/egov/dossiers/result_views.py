"""The public verification page ``/verify/`` (xác thực kết quả) and the demo CA's certificate and CRL. Thin: parse,
call the queries, render."""
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from egov.dossiers import result_forms, result_queries
from egov.kernel import pki
from egov.kernel.client_address import client_address

TEMPLATE = "dossiers/verify.html"


def _limited(request, context):
    try:
        result_queries.allow(client_address(request) or "")
    except result_queries.TooManyVerifications as exc:
        response = render(request, TEMPLATE, {**context, "limited": True,
                                              "minutes": max(1, (exc.retry_after + 59) // 60)}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """GET ``?code=…``: verify a result by its code; POST a PDF (``file``): verify the file itself."""
    code_form, upload_form = result_forms.CodeForm(), result_forms.UploadForm()
    context = {"code_form": code_form, "upload_form": upload_form}
    if request.method == "POST":
        upload_form = result_forms.UploadForm(request.POST, request.FILES)
        context["upload_form"] = upload_form
        if not upload_form.is_valid():
            return render(request, TEMPLATE, context, status=400)
        if (limited := _limited(request, context)) is not None:
            return limited
        context["verification"] = result_queries.verify_pdf(upload_form.cleaned_data["file"])
        context["source"] = "file"
        return render(request, TEMPLATE, context)
    if "code" not in request.GET:
        return render(request, TEMPLATE, context)
    code_form = result_forms.CodeForm(request.GET)
    context["code_form"] = code_form
    if not code_form.is_valid():
        return render(request, TEMPLATE, context, status=400)
    if (limited := _limited(request, context)) is not None:
        return limited
    verification = result_queries.verify_code(code_form.cleaned_data["code"])
    if verification is None:
        return render(request, TEMPLATE, {**context, "not_found": True}, status=404)
    context.update(verification=verification, source="code")
    return render(request, TEMPLATE, context)


def _demo_only():
    if pki.is_production():
        raise Http404("the demo CA is not used in production")


def demo_ca_certificate(request):
    """The demo root CA's certificate (DER), to add as trusted in a PDF reader."""
    _demo_only()
    from cryptography.hazmat.primitives import serialization

    response = HttpResponse(pki.demo_ca().certificate.public_bytes(serialization.Encoding.DER),
                            content_type="application/pkix-cert")
    response["Content-Disposition"] = 'attachment; filename="egov-demo-ca.crt"'
    return response


@never_cache
def demo_ca_crl(request):
    """The demo CA's certificate revocation list (DER), from the platform's revocation table."""
    _demo_only()
    response = HttpResponse(pki.crl_der(), content_type="application/pkix-crl")
    response["Content-Disposition"] = 'attachment; filename="egov-demo-ca.crl"'
    return response

