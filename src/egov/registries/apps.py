from django.apps import AppConfig


class Config(AppConfig):
    name = "egov.registries"
    label = "registries"

    def ready(self):
        from egov.kernel import crypto
        from egov.registries import services

        # Persons first: a rotation re-seals the national registry before sector records.
        crypto.register_sealed_table(crypto.SealedTable("persons", services._person_usage,
                                                        services._rotate_person_batch))
        crypto.register_sealed_table(crypto.SealedTable("records", services._record_usage,
                                                        services._rotate_record_batch))
