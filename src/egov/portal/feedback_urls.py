"""URLs of feedback and complaints, included from ``portal/urls.py`` (namespace ``portal``)."""
from django.urls import path

from egov.portal import feedback_views as views

urlpatterns = [
    path("lookup/", views.lookup, name="lookup"),
    path("feedback/", views.feedback_home, name="feedback"),
    path("feedback/agencies.json", views.feedback_agencies, name="feedback_agencies"),
    path("feedback/sent/<str:reference>/", views.feedback_sent, name="feedback_sent"),
    path("feedback/reply/<str:token>/", views.feedback_reply_by_link, name="feedback_reply_by_link"),
    path("feedback/answers/", views.feedback_answers, name="feedback_answers"),
    path("feedback/mine/", views.feedback_mine, name="feedback_mine"),
    path("feedback/mine/<str:reference>/", views.feedback_mine_detail, name="feedback_mine_detail"),
    path("feedback/mine/<str:reference>/reply/", views.feedback_reply, name="feedback_reply"),
    path("backoffice/feedback/", views.backoffice_list, name="feedback_backoffice"),
    path("backoffice/feedback/<str:reference>/", views.backoffice_detail, name="feedback_backoffice_detail"),
    path("backoffice/feedback/<str:reference>/<str:action>/", views.backoffice_action,
         name="feedback_backoffice_action"),
]
