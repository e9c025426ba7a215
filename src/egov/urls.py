"""Root URL configuration.

``EGOV_BENCH_BARE_VIEW=1`` adds ``/bench/bare``, a bare Django view returning a tiny response: the reference that
``bench/bench_home.py`` measures the home page against, under the same server and settings. Never set it in production.
It also adds ``/bench/verify-reference`` (one indexed SELECT and one INSERT), the reference of
``bench/bench_population.py``, and ``/bench/submission-reference/<step>/`` (the two requests of an online submission
taken and parsed, nothing done with them), the floor of ``bench/bench_submission.py``.
"""
import os

from django.contrib import admin
from django.urls import include, path
from oauth2_provider.views import ConnectDiscoveryInfoView

from egov.api import api
from egov.dossiers import urls as dossier_urls
from egov.kernel import health, metrics
from egov.notifications.views import demo_outbox

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("accounts/eid/", include("egov.accounts.eid_urls")),
    path("accounts/", include("egov.accounts.urls")),
    # OpenID Connect provider for agency systems (issuer: this site + /o); discovery also at the site's root.
    path("o/", include("egov.accounts.oidc_urls")),
    path(".well-known/openid-configuration", ConnectDiscoveryInfoView.as_view(), name="oidc-discovery-root"),
    path("registries/", include("egov.registries.urls")),
    path("demo/outbox/", demo_outbox, name="demo-outbox"),
    path("business/", include("egov.accounts.business_urls")),
    path("backoffice/", include(dossier_urls.backoffice)),
    path("dossiers/", include(dossier_urls.applicant)),
    path("statistics/", include("egov.monitoring.urls")),
    path("verify/", include("egov.dossiers.result_urls")),
    path("payments/", include("egov.payments.urls")),
    path("", include("egov.portal.urls")),
]

if os.environ.get("EGOV_BENCH_BARE_VIEW") == "1":
    from egov.portal.views import bench_bare, bench_submission_reference, bench_verify_reference

    urlpatterns.append(path("bench/bare", bench_bare, name="bench-bare"))
    urlpatterns.append(path("bench/verify-reference", bench_verify_reference, name="bench-verify-reference"))
    urlpatterns.append(path("bench/submission-reference/<str:step>/", bench_submission_reference,
                            name="bench-submission-reference"))
    from egov.payments.views import bench_hmac_reference

    urlpatterns.append(path("bench/payments-hmac", bench_hmac_reference, name="bench-payments-hmac"))

handler400 = "egov.portal.views.bad_request"
handler403 = "egov.portal.views.permission_denied"
handler404 = "egov.portal.views.page_not_found"
handler500 = "egov.portal.views.server_error"
