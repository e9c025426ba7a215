from django.apps import AppConfig


class Config(AppConfig):
    name = "egov.registries"
    label = "registries"
