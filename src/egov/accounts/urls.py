from django.contrib.auth import views as auth_views
from django.urls import path

from egov.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/totp/", views.totp_verify, name="totp"),
    path("totp/enrol/", views.totp_enrol, name="totp_enrol"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(
        template_name="registration/password_reset_done.html"), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/password_reset_complete.html"), name="password_reset_complete"),
    path("agency/<str:code>/officers/", views.agency_officers, name="agency_officers"),
    path("register/", views.register, name="register"),
    path("me/", views.me, name="me"),
    path("verify/", views.verify_identity, name="verify_identity"),
    path("verify/<uuid:code_uid>/", views.verify_identity_code, name="verify_identity_code"),
    path("desk/verify/", views.desk_verification, name="desk_verification"),
    path("contact/", views.change_contact, name="change_contact"),
    path("contact/<uuid:code_uid>/", views.change_contact_code, name="change_contact_code"),
    path("sessions/", views.sessions, name="sessions"),
    path("history/", views.history, name="history"),
]
