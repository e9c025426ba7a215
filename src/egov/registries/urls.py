from django.urls import path

from egov.registries import views

app_name = "registries"
urlpatterns = [
    path("persons/lookup/", views.person_lookup, name="person_lookup"),
    path("", views.registry_list, name="list"),
    path("new/", views.registry_new, name="new"),
    path("<str:code>/<str:version>/", views.registry_detail, name="detail"),
]
