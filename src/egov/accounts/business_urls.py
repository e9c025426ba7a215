from django.urls import path

from egov.accounts import business_views

app_name = "business"
urlpatterns = [
    path("", business_views.my_businesses, name="list"),
    path("<str:code>/", business_views.business_detail, name="detail"),
    path("<str:code>/staff/<int:membership_id>/revoke/", business_views.revoke_staff, name="revoke_staff"),
]
