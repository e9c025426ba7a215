from django.apps import AppConfig


class Config(AppConfig):
    name = "egov.accounts"
    label = "accounts"

    def ready(self):
        # Accounts react to the population registry (a lower component) through its signal, never the reverse.
        from egov.accounts import services
        from egov.registries.signals import person_deceased

        person_deceased.connect(services.disable_accounts_of_deceased, dispatch_uid="accounts.disable_deceased")

        from django.contrib.auth.signals import user_logged_in, user_logged_out

        user_logged_in.connect(lambda sender, request, user, **kw: services.session_started(request, user),
                               dispatch_uid="accounts.session_started", weak=False)
        user_logged_out.connect(lambda sender, request, user, **kw: services.session_ended(request, user),
                                dispatch_uid="accounts.session_ended", weak=False)

        from egov.kernel import crypto

        crypto.register_sealed_table(crypto.SealedTable("codes", services.code_key_usage, services.rotate_code_batch))
