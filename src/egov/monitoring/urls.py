from django.urls import path

from egov.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.statistics_page, name="statistics"),
    path("export.csv", views.statistics_csv, name="statistics_csv"),
]
