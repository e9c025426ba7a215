"""Web pages of egov's OpenID Connect provider: the consent screen (in egov's look, with the agency system's name
and agency and each requested scope in plain words). Everything else is django-oauth-toolkit's own views; the
decisions (claims, replayed codes, ledger events) are in ``egov.accounts.oidc``."""
from django.shortcuts import redirect
from oauth2_provider.views import AuthorizationView

from egov.accounts.oidc import link_of


class ConsentView(AuthorizationView):
    """``/o/authorize/``: sign in (with the second factor for officers), then Allow or Deny. Works without
    JavaScript: two submit buttons; only Allow carries ``allow``."""

    template_name = "accounts/oidc_consent.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        # An officer whose password was accepted but who has not given the TOTP code yet is not signed in for
        # other systems either: finish the second step, then come back here.
        if user.is_authenticated and user.needs_second_factor and not (hasattr(user, "is_verified")
                                                                       and user.is_verified()):
            from egov.accounts.views import second_factor_url

            return redirect(second_factor_url(user, request.get_full_path()))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        link = link_of(context.get("application"))
        context["client_system"] = link.client if link is not None else None
        context["scope_items"] = list(zip(context.get("scopes") or [], context.get("scopes_descriptions") or [],
                                          strict=False))
        return context
