from django.urls import include, path

from egov.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("my/data-access/", views.data_access, name="data_access"),
    path("places/<str:province>/communes.json", views.communes, name="communes"),
    path("my/notifications/", include("egov.notifications.urls")),
    path("", include("egov.portal.feedback_urls")),
    path("", include("egov.portal.apply_urls")),
    path("procedures/", include("egov.portal.catalogue_urls")),
]
