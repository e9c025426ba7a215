from django.apps import AppConfig


class Config(AppConfig):
    """A test-only app whose model has no migration: `egov check` must name it."""

    name = "tests.cli.fake_app"
    label = "cli_fake_app"
    default_auto_field = "django.db.models.BigAutoField"
