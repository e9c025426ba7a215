from django.apps import AppConfig


class Config(AppConfig):
    name = "egov.portal"
    label = "portal"
