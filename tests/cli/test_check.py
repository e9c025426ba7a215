"""`egov check`: Django's system checks, missing migrations (named by app), the database's migration state, and a
configuration summary that never shows a secret."""
import pytest

from egov.kernel.management.commands.egov_check import migration_conflicts, missing_migrations
from tests.cli.conftest import postgres_url, rsa_pem

GOOD_PRODUCTION = {
    "EGOV_ENV": "production",
    "EGOV_SECRET_KEY": "a-production-secret-key-of-our-own-0123456789-abcdefghij",
    "EGOV_ALLOWED_HOSTS": "egov.example.gov.vn",
    "EGOV_DATA_KEYS": "prod2026:cHJvZHVjdGlvbi1wZXJzb25hbC1kYXRhLWtleS0zMmI=",
    "EGOV_OIDC_RSA_KEY": rsa_pem(),
    "EGOV_DEBUG": None,
    "EGOV_SMS_BACKEND": "egov.notifications.backends.HttpSmsBackend",
    "EGOV_SMS_URL": "https://sms.example.gov.vn/send",
}


def test_every_model_change_in_this_tree_has_its_migration():
    assert missing_migrations() == {}
    assert migration_conflicts() == {}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """One fresh, migrated installation shared by the subprocess tests below (migrating takes a few seconds)."""
    from tests.cli.conftest import FreshInstallation

    installation = FreshInstallation(tmp_path_factory.mktemp("check"), "postgresql" if postgres_url() else "sqlite")
    result = installation.egov("migrate")
    assert result.returncode == 0, result.stderr
    yield installation
    installation.drop()


def test_a_clean_installation_passes(migrated):
    result = migrated.egov("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "egov check: no problems found." in result.stdout
    assert f"data directory (EGOV_DATA_DIR): {migrated.data_dir}" in result.stdout
    engine = "postgresql" if postgres_url() else "sqlite3"
    assert f"database (EGOV_DATABASE_URL): {engine} at" in result.stdout


def test_a_good_production_configuration_passes_and_shows_no_secret(migrated):
    env = dict(GOOD_PRODUCTION)
    if migrated.database:  # a password in the URL (trust authentication ignores it) must not be printed
        env["EGOV_DATABASE_URL"] = migrated.env["EGOV_DATABASE_URL"].replace("://postgres@", "://postgres:pw-s3cret@")
    result = migrated.egov("check", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "environment (EGOV_ENV): production" in result.stdout
    assert "debug (EGOV_DEBUG): off" in result.stdout
    output = result.stdout + result.stderr
    assert GOOD_PRODUCTION["EGOV_SECRET_KEY"] not in output
    assert "PRIVATE KEY" not in output
    assert "pw-s3cret" not in output


def test_an_unmigrated_database_is_a_problem(new_installation):
    result = new_installation().egov("check")
    assert result.returncode == 1
    assert "problem: the database is missing" in result.stderr and "run `egov migrate`" in result.stderr
    assert "egov check: 1 problem(s) found" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_model_without_its_migration_fails_naming_the_app(migrated):
    """tests/cli/fake_app has a model and no migration; the settings that install it are tests/cli/fake_settings."""
    from tests.cli.conftest import egov

    result = egov("check", env=migrated.env, settings_module="tests.cli.fake_settings")
    assert result.returncode == 1
    assert "problem: app cli_fake_app has model changes without a migration (Create model Unmigrated)" in result.stderr
    assert "makemigrations cli_fake_app" in result.stderr
    assert "Traceback" not in result.stderr
