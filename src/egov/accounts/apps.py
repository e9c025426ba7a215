from django.apps import AppConfig


class Config(AppConfig):
    name = "egov.accounts"
    label = "accounts"

    def ready(self):
        # Accounts react to the population registry (a lower component) through its signal, never the reverse.
        from egov.accounts import services
        from egov.registries.signals import person_deceased

        person_deceased.connect(services.disable_accounts_of_deceased, dispatch_uid="accounts.disable_deceased")
