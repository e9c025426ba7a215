from django.urls import path

from egov.dossiers import result_views

app_name = "results"
urlpatterns = [
    path("", result_views.verify, name="verify"),
    path("ca.crt", result_views.demo_ca_certificate, name="ca_certificate"),
    path("ca.crl", result_views.demo_ca_crl, name="ca_crl"),
]
