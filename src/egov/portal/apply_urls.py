"""URLs of applying online and of the citizen's data store (namespace ``portal:apply``)."""
from django.urls import path

from egov.portal import apply_views as views

app_name = "apply"
urlpatterns = [
    path("apply/drafts/", views.my_drafts, name="drafts"),
    path("apply/drafts/<uuid:uid>/", views.resume, name="resume"),
    # Before the steps: "delete" is no step's id, but the step pattern would take it.
    path("apply/drafts/<uuid:uid>/delete/", views.delete_draft, name="delete"),
    path("apply/drafts/<uuid:uid>/<str:step>/", views.step, name="step"),
    path("apply/done/<str:code>/", views.done, name="done"),
    path("apply/<str:code>/", views.start, name="start"),
    path("my/documents/", views.my_documents, name="documents"),
]
