from django.apps import AppConfig


class Config(AppConfig):
    name = "egov.kernel"
    label = "kernel"
