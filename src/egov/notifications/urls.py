"""The applicant's notices, mounted by the portal under ``/my/notifications/`` (names in the portal's namespace)."""
from django.urls import path

from egov.notifications import views

urlpatterns = [
    path("", views.my_notifications, name="my_notifications"),
    path("<int:notification_id>/read/", views.mark_read, name="notification_read"),
    path("read-all/", views.mark_all_read, name="notifications_read_all"),
    path("language/", views.set_language, name="notifications_language"),
]
