"""Reading ``EGOV_*`` settings, with errors that name the variable to fix."""
import json
import logging
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

DEMO_SMS_BACKEND = "egov.notifications.backends.OutboxSmsBackend"
DEMO_SECRET_KEY = "egov-demo-secret-key-do-not-use-in-production-0123456789"


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """IP addresses or CIDR ranges, comma-separated; a wrong one stops the start with its name, never a request."""
    import ipaddress

    items = env_list(name, "")
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP address or a CIDR range "
                                       "(e.g. 10.0.0.5 or 10.0.0.0/24).") from None
    return items


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


def data_dir() -> Path:
    path = env_path("EGOV_DATA_DIR", Path.cwd() / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database(data: Path) -> dict:
    """``EGOV_DATABASE_URL`` (``postgres://…`` or ``sqlite:///path``) or the embedded SQLite database."""
    url = os.environ.get("EGOV_DATABASE_URL", "").strip()
    if not url:
        return sqlite(data / "egov.sqlite3")
    import dj_database_url

    scheme = url.split(":", 1)[0].lower()
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"EGOV_DATABASE_URL has the scheme {scheme!r}; egov supports postgres://user:password@host:port/name "
            "and sqlite:///absolute/path.db"
        )
    try:
        parsed = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # noqa: BLE001  (the library raises several types for malformed URLs)
        raise ImproperlyConfigured(f"EGOV_DATABASE_URL could not be read: {exc}") from None
    if parsed["ENGINE"] == "django.db.backends.sqlite3":
        return sqlite(Path(parsed["NAME"]))
    if not parsed.get("NAME"):
        raise ImproperlyConfigured("EGOV_DATABASE_URL names no database: add /name at the end of the URL.")
    parsed["ENGINE"] = "egov.kernel.postgresql"  # Django's, with a health check that asks the socket first
    # Rows kept per connection until PostgreSQL notifies a change (egov.kernel.row_cache). Turn off (0) behind a
    # pooler in transaction mode, where LISTEN does not stay with the session.
    parsed["ROW_CACHE"] = env_bool("EGOV_DATABASE_NOTIFY", True)
    parsed["TEST"] = {"NAME": os.environ.get("EGOV_TEST_DATABASE_NAME") or f"test_{parsed['NAME']}"}
    # Server-side binding with prepared statements: hot statements are planned once per connection (measured: a
    # verification went from 2.1 to 1.5 ms). Turn off (0) behind a pooler that cannot keep prepared statements.
    if env_bool("EGOV_DATABASE_PREPARE", True):
        parsed.setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
    return parsed


def sqlite(path: Path) -> dict:
    # WAL lets readers go on while one writer commits; IMMEDIATE transactions avoid upgrade deadlocks.
    return {
        "ENGINE": "egov.kernel.sqlite3",  # Django's backend with a writer queue (see its docstring)
        "NAME": path,
        "CONN_MAX_AGE": 60,
        # A file, not memory, so that server processes started by tests share the test database.
        "TEST": {"NAME": str(path.with_name("test_" + path.name))},
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
                            "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;",
        },
    }


def demo_data_keys() -> str:
    from egov.kernel import crypto

    return crypto.demo_keys_spec()


def oidc_rsa_private_key(data: Path, *, create: bool) -> str:
    """The RSA private key (PEM) that signs OpenID Connect ID tokens, kept outside the database like the ledger's
    checkpoint key. ``EGOV_OIDC_RSA_KEY`` holds the PEM itself or a path to it; unset, the key file is
    ``$EGOV_DATA_DIR/keys/oidc-rsa.pem``. Outside production a missing file is generated once (mode 0600), so the
    demo's agency systems keep verifying tokens across restarts; in production "" is returned and
    ``refuse_unsafe_production`` refuses to start, because a key made silently next to the database protects nothing."""
    raw = os.environ.get("EGOV_OIDC_RSA_KEY", "").strip()
    if raw.startswith("-----BEGIN"):
        pem = raw.replace("\\n", "\n")  # a PEM passed on one line with literal \n
    else:
        path = Path(raw).expanduser().resolve() if raw else data / "keys" / "oidc-rsa.pem"
        if not path.exists():
            if raw or not create:
                return ""
            _create_rsa_key(path)
        pem = path.read_text()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"EGOV_OIDC_RSA_KEY is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
        raise ImproperlyConfigured("EGOV_OIDC_RSA_KEY must be an RSA private key of at least 2048 bits (ID tokens "
                                   "are signed RS256).")
    return pem


def _create_rsa_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    write_key_file(path, rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def write_key_file(path: Path, pem: bytes) -> None:
    """Write a generated private key once, readable by its owner only. When another process created the file
    first, theirs is kept (every process then loads the same key)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)




# The fake national eID's published client (egov.accounts.fake_eid): demo only, refused in production.
DEMO_EID_CLIENT_ID = "egov-demo"
DEMO_EID_CLIENT_SECRET = "demo-eid-secret-published-never-use-in-production"


def eid_problems(issuer: str, client_id: str, client_secret: str) -> list[str]:
    """What is wrong with a production national eID configuration (none when the feature is off)."""
    if not issuer:
        return []
    problems = []
    if not issuer.startswith("https://"):
        problems.append("EGOV_EID_ISSUER: the national eID issuer must be an https:// URL in production")
    if not client_id:
        problems.append("EGOV_EID_CLIENT_ID: set the client id the national eID registered for this site")
    if not client_secret or client_secret == DEMO_EID_CLIENT_SECRET:
        problems.append("EGOV_EID_CLIENT_SECRET: set the client secret the national eID issued to this site "
                        "(the demo secret is refused in production)")
    return problems


def refuse_unsafe_production(secret_key: str, debug: bool, allowed_hosts: list[str], data_keys: str = "",
                             eid: tuple[str, str, str] = ("", "", ""), sms_backend: str = "",
                             sms_url: str = "", oidc_key: str | None = None) -> None:
    problems = []
    if sms_backend.endswith("OutboxSmsBackend"):
        problems.append("EGOV_SMS_BACKEND: the demo outbox sends no SMS; set a real provider "
                        "(egov.notifications.backends.HttpSmsBackend with EGOV_SMS_URL and EGOV_SMS_TOKEN)")
    elif sms_backend.endswith("HttpSmsBackend") and not sms_url:
        problems.append("EGOV_SMS_URL: set the SMS provider's address (and EGOV_SMS_TOKEN) for HttpSmsBackend")
    if secret_key == DEMO_SECRET_KEY or len(secret_key) < 40:
        problems.append("EGOV_SECRET_KEY: set a secret key of your own, at least 40 random characters "
                        "(the demo key is refused in production)")
    if debug:
        problems.append("EGOV_DEBUG: must be off (0) in production")
    if not allowed_hosts:
        problems.append("EGOV_ALLOWED_HOSTS: list the host names this server answers to, comma-separated")
    from egov.kernel import crypto

    if not data_keys or crypto.uses_demo_key(data_keys):
        problems.append("EGOV_DATA_KEYS: set personal-data keys of your own (`egov keys new ID`); the demo key "
                        "is refused in production")
    problems.extend(eid_problems(*eid))
    if oidc_key is not None and not oidc_key:
        problems.append("EGOV_OIDC_RSA_KEY: set the RSA private key (PEM, or the path of a PEM file) that signs "
                        "OpenID Connect ID tokens; egov does not generate one in production")
    if problems:
        raise ImproperlyConfigured("egov refuses to start with EGOV_ENV=production:\n  - " + "\n  - ".join(problems))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class UnreadableBodyInOneLine(logging.Filter):
    """A request body Django cannot parse (``MultiPartParserError``: a multipart body without its boundary, a broken
    part) is the client's mistake, answered 400; Django logs it on django.request with the traceback, as if the server
    had failed. It is kept as one line, with the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            from django.http.multipartparser import MultiPartParserError

            if isinstance(exc, MultiPartParserError):
                record.msg, record.args = f"{record.getMessage()} ({exc})", None
                record.exc_info = record.exc_text = None
        return True


def logging_config(level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "egov.config.JsonFormatter"}},
        "filters": {"unreadable_body": {"()": "egov.config.UnreadableBodyInOneLine"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": level},
        # Libraries that narrate every step at INFO: SpiffWorkflow (each task state), fontTools (each PDF's font subset).
        "loggers": {"django.db.backends": {"level": "WARNING"}, "spiff": {"level": "WARNING"},
                    "fontTools": {"level": "WARNING"}, "django.request": {"filters": ["unreadable_body"]}},
    }


# Payments (egov.payments): the sandbox gateway and bank (`egov sandbox-pay`) sign their callbacks with these published
# demo secrets. Demo only: production refuses them.
DEMO_PAYMENT_GATEWAY_SECRET = "demo-payment-gateway-secret-published-never-use-in-production"
DEMO_PAYMENT_BANK_SECRET = "demo-payment-bank-secret-published-never-use-in-production"


def payment_problems(secrets: dict[str, str]) -> list[str]:
    """What is wrong with the payment providers' callback secrets in production (each is an HMAC key). A provider
    without a secret is off: its callbacks are refused."""
    problems = []
    for provider, secret in secrets.items():
        name = f"EGOV_PAYMENT_{provider.upper()}_SECRET"
        if secret and (secret in (DEMO_PAYMENT_GATEWAY_SECRET, DEMO_PAYMENT_BANK_SECRET) or len(secret) < 32):
            problems.append(f"{name}: set the secret this provider signs its callbacks with, at least 32 characters "
                            "(the demo secret is refused in production)")
    return problems
