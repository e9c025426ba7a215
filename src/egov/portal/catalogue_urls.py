"""URLs of the procedure search and procedure pages, included under /procedures/ by portal/urls.py (names in the
``portal`` namespace)."""
from django.urls import path

from egov.portal import catalogue_views

urlpatterns = [
    path("", catalogue_views.procedure_search, name="procedure_search"),
    path("<str:code>/", catalogue_views.procedure_detail, name="procedure_detail"),
]
