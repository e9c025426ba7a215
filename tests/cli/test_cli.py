"""The `egov` command as an operator meets it: wrong options and wrong configuration get one specific line naming
what to fix (and the exit code says which kind of failure), never a traceback."""
import pytest

from tests.cli.conftest import egov, rsa_pem

DEMO_KEY = "egov-demo-secret-key-do-not-use-in-production-0123456789"
OWN_KEY = "a-production-secret-key-of-our-own-0123456789-abcdefghij"
OWN_DATA_KEYS = "prod2026:cHJvZHVjdGlvbi1wZXJzb25hbC1kYXRhLWtleS0zMmI="
DEMO_DATA_KEYS = "demo2026:" + __import__("base64").urlsafe_b64encode(__import__("hashlib").sha256(
    b"egov demo personal-data master key - never use in production").digest()).decode()


def assert_clean_failure(result, code: int, *expected: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def test_unknown_option_is_an_argparse_error():
    result = egov("backup", "x.tar.gz", "--compress-harder")
    assert_clean_failure(result, 2, "usage: egov", "egov: error: unrecognized arguments: --compress-harder")


def test_unknown_command_lists_the_commands():
    result = egov("frobnicate")
    assert_clean_failure(result, 2, "egov: error: argument COMMAND: invalid choice: 'frobnicate'", "'restore'")


def test_missing_argument_is_named():
    assert_clean_failure(egov("restore"), 2, "the following arguments are required: archive")


def test_help_lists_every_command():
    result = egov("--help")
    assert result.returncode == 0
    for command in ("demo", "serve", "worker", "migrate", "seed", "check", "audit", "backup", "restore",
                    "demo-client"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://egov@db.example/egov", "EGOV_DATABASE_URL has the scheme 'mysql'; egov supports postgres://"),
        ("postgres://egov@db.example:notaport/egov", "egov: configuration error: EGOV_DATABASE_URL could not be read"),
        ("postgres://egov@db.example:5432", "egov: configuration error: EGOV_DATABASE_URL names no database"),
        ("just some words", "egov: configuration error: EGOV_DATABASE_URL has the scheme 'just some words'"),
    ],
    ids=["mysql", "bad-port", "no-database-name", "not-a-url"],
)
def test_a_bad_database_url_is_a_configuration_error(url, message, tmp_path):
    result = egov("check", env={"EGOV_DATABASE_URL": url, "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 2, message)


def test_an_unreachable_postgresql_names_the_address_and_the_variable(tmp_path):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    result = egov("migrate", env={"EGOV_DATABASE_URL": "postgres://egov:pw-s3cret@127.0.0.1:1/egov",
                                  "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 1, "egov: cannot connect to the database at 127.0.0.1:1/egov (EGOV_DATABASE_URL):",
                         "Connection refused")
    assert "pw-s3cret" not in result.stderr


def test_an_unopenable_sqlite_file_names_the_path(tmp_path):
    result = egov("check", env={"EGOV_DATABASE_URL": "sqlite:////nonexistent-dir/egov.sqlite3",
                                "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 1, "egov: cannot connect to the database at /nonexistent-dir/egov.sqlite3")


def test_a_bad_boolean_names_the_variable(tmp_path):
    result = egov("check", env={"EGOV_DEBUG": "maybe", "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 2, "egov: configuration error: EGOV_DEBUG='maybe' is not a boolean")


GOOD = {"EGOV_ENV": "production", "EGOV_SECRET_KEY": OWN_KEY, "EGOV_ALLOWED_HOSTS": "egov.example.gov.vn",
        "EGOV_DATA_KEYS": OWN_DATA_KEYS, "EGOV_OIDC_RSA_KEY": rsa_pem(), "EGOV_DEBUG": None,
        "EGOV_SMS_BACKEND": "egov.notifications.backends.HttpSmsBackend", "EGOV_SMS_URL": "https://sms.example.vn/send"}


@pytest.mark.parametrize(
    ("change", "variable", "message"),
    [
        ({"EGOV_SECRET_KEY": None}, "EGOV_SECRET_KEY", "the demo key is refused in production"),
        ({"EGOV_SECRET_KEY": DEMO_KEY}, "EGOV_SECRET_KEY", "the demo key is refused in production"),
        ({"EGOV_SECRET_KEY": "short"}, "EGOV_SECRET_KEY", "at least 40 random characters"),
        ({"EGOV_DEBUG": "1"}, "EGOV_DEBUG", "must be off (0) in production"),
        ({"EGOV_ALLOWED_HOSTS": None}, "EGOV_ALLOWED_HOSTS", "list the host names this server answers to"),
        ({"EGOV_DATA_KEYS": None}, "EGOV_DATA_KEYS", "the demo key is refused in production"),
        ({"EGOV_DATA_KEYS": DEMO_DATA_KEYS}, "EGOV_DATA_KEYS", "the demo key is refused in production"),
        ({"EGOV_SMS_BACKEND": None}, "EGOV_SMS_BACKEND", "the demo outbox sends no SMS"),
        ({"EGOV_SMS_URL": None}, "EGOV_SMS_URL", "the SMS provider's address"),
        ({"EGOV_OIDC_RSA_KEY": None}, "EGOV_OIDC_RSA_KEY", "egov does not generate one in production"),
        ({"EGOV_OIDC_RSA_KEY": "/nonexistent/oidc.pem"}, "EGOV_OIDC_RSA_KEY", "signs OpenID Connect ID tokens"),
    ],
    ids=["no-secret-key", "demo-secret-key", "short-secret-key", "debug-on", "no-allowed-hosts", "no-data-keys",
         "demo-data-keys", "demo-sms-outbox", "no-sms-url", "no-oidc-key", "missing-oidc-key-file"],
)
@pytest.mark.parametrize("command", ["check", "serve"])
def test_production_refuses_unsafe_settings_naming_the_variable(command, change, variable, message, tmp_path):
    result = egov(command, env={**GOOD, **change, "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 2, "egov refuses to start with EGOV_ENV=production", f"- {variable}: ", message)
    assert OWN_KEY not in result.stderr


def test_an_oidc_key_that_is_not_an_rsa_pem_is_named(tmp_path):
    result = egov("check", env={"EGOV_OIDC_RSA_KEY": "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----",
                                "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 2, "egov: configuration error: EGOV_OIDC_RSA_KEY is not an unencrypted PEM")


def test_outside_production_the_oidc_key_is_made_once_in_the_data_directory(tmp_path):
    assert egov("check", env={"EGOV_DATA_DIR": str(tmp_path)}).returncode in (0, 1)
    key = tmp_path / "keys" / "oidc-rsa.pem"
    first = key.read_text()
    assert "PRIVATE KEY" in first and oct(key.stat().st_mode & 0o777) == "0o600"
    egov("check", env={"EGOV_DATA_DIR": str(tmp_path)})
    assert key.read_text() == first


def test_the_demo_client_is_refused_in_production(tmp_path):
    result = egov("demo-client", env={**GOOD, "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 2, "egov demo-client: The demo agency client is refused with EGOV_ENV=production")


def test_production_lists_every_unsafe_setting_at_once(tmp_path):
    result = egov("check", env={"EGOV_ENV": "production", "EGOV_SECRET_KEY": None, "EGOV_DEBUG": "1",
                                "EGOV_ALLOWED_HOSTS": None, "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 2, "- EGOV_SECRET_KEY: ", "- EGOV_DEBUG: ", "- EGOV_ALLOWED_HOSTS: ")


def test_a_thread_count_that_is_not_a_number_is_named(tmp_path):
    result = egov("serve", "--bind", "127.0.0.1:0", env={"EGOV_WEB_THREADS": "many", "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 1, "EGOV_WEB_THREADS='many' is not a whole number")


@pytest.mark.parametrize(("workers", "message"), [("many", "'many' is not a whole number"),
                                                  ("0", "0 server processes: at least 1")])
def test_a_worker_count_that_is_not_a_positive_number_is_named(workers, message, tmp_path):
    result = egov("serve", env={"EGOV_WEB_WORKERS": workers, "EGOV_DATA_DIR": str(tmp_path)})
    assert_clean_failure(result, 2, "argument --workers", message, "EGOV_WEB_WORKERS")
    assert egov("check", env={"EGOV_WEB_WORKERS": workers, "EGOV_DATA_DIR": str(tmp_path)}).returncode in (0, 1)


def test_retention_names_a_number_of_days_that_is_wrong():
    assert_clean_failure(egov("retention", "--days", "many"), 2, "argument --days: invalid int value: 'many'")
    assert_clean_failure(egov("retention", "--days", "-3"), 1, "egov retention: --days is a number of days, 0 or more")
