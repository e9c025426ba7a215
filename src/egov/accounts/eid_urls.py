from django.urls import path

from egov.accounts import eid_views

app_name = "eid"
urlpatterns = [
    path("start/", eid_views.start, name="start"),
    path("callback/", eid_views.callback, name="callback"),
]
