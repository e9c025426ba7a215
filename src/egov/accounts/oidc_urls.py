"""URLs of egov's OpenID Connect provider, under ``/o/`` (namespace ``oauth2_provider``, which DOT reverses).

Only what agency systems need: no self-service application pages (client systems and their applications are
registered by the platform administrator in the admin), no dynamic registration, no device flow."""
from django.urls import path, re_path
from oauth2_provider import views

from egov.accounts.oidc_views import ConsentView

app_name = "oauth2_provider"
urlpatterns = [
    path("authorize/", ConsentView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    re_path(r"^\.well-known/openid-configuration/?$", views.ConnectDiscoveryInfoView.as_view(),
            name="oidc-connect-discovery-info"),
    path(".well-known/jwks.json", views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("logout/", views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]
