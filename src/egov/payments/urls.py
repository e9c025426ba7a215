"""``/payments/``: the applicant's payment pages per dossier, the receipt, the reconciliation reports."""
from django.urls import path

from egov.payments import views

app_name = "payments"
urlpatterns = [
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("<str:code>/", views.pay, name="pay"),
    path("<str:code>/vietqr/", views.pay_vietqr, name="vietqr"),
    path("<str:code>/gateway/", views.pay_gateway, name="gateway"),
    path("<str:code>/returned/", views.returned, name="returned"),
    path("<str:code>/qr.svg", views.qr_svg, name="qr"),
    path("<str:code>/receipt.pdf", views.receipt, name="receipt"),
]
