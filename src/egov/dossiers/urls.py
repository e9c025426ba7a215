"""URL maps of the dossier pages: the back office (``/backoffice/``, namespace ``backoffice``) and the applicant's own
dossier (``/dossiers/``, namespace ``dossiers``). Included twice from ``egov/urls.py``."""
from django.urls import path

from egov.dossiers import views

backoffice_patterns = [
    path("", views.inbox, name="inbox"),
    path("intake/", views.intake, name="intake"),
    path("book/", views.book, name="book"),
    path("dossiers/<str:code>/", views.detail, name="detail"),
    path("dossiers/<str:code>/forms/<str:form>.pdf", views.form_pdf, name="form_pdf"),
    path("dossiers/<str:code>/files/<int:pk>/", views.attachment, name="attachment"),
    path("dossiers/<str:code>/<str:action>/", views.action, name="action"),
]

applicant_patterns = [
    path("", views.my_dossiers, name="mine"),
    path("<str:code>/", views.my_dossier, name="detail"),
    path("<str:code>/supply/", views.my_supply, name="supply"),
    path("<str:code>/withdraw/", views.my_withdraw, name="withdraw"),
    path("<str:code>/rate/", views.my_rate, name="rate"),
    path("<str:code>/forms/<str:form>.pdf", views.my_form_pdf, name="form_pdf"),
    path("<str:code>/files/<int:pk>/", views.my_attachment, name="attachment"),
]

backoffice = (backoffice_patterns, "backoffice")
applicant = (applicant_patterns, "dossiers")
