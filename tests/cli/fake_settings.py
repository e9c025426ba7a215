"""egov's settings plus an app whose model lacks a migration (used by test_check through a subprocess)."""
from egov.settings import *  # noqa: F403
from egov.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.cli.fake_app"]
