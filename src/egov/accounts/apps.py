from django.apps import AppConfig


class Config(AppConfig):
    name = "egov.accounts"
    label = "accounts"
