"""Django settings for egov, read from ``EGOV_*`` environment variables.

The defaults run the embedded demo (SQLite under ``EGOV_DATA_DIR``). With ``EGOV_ENV=production`` the platform refuses
to start on the demo secret key, DEBUG on, or missing allowed hosts: see ``egov.config.production_problems``.
"""
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from egov import config

BASE_DIR = Path(__file__).resolve().parent
ENV = config.env("EGOV_ENV", "development")
DATA_DIR = config.data_dir()

SECRET_KEY = config.env("EGOV_SECRET_KEY", config.DEMO_SECRET_KEY)
DEBUG = config.env_bool("EGOV_DEBUG", ENV != "production")
ALLOWED_HOSTS = config.env_list("EGOV_ALLOWED_HOSTS", "" if ENV == "production" else "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = config.env_list("EGOV_CSRF_TRUSTED_ORIGINS", "")

# Personal data at rest: master keys for envelope encryption and blind indexes (egov.kernel.crypto). First = active.
PERSONAL_DATA_KEYS = config.env("EGOV_DATA_KEYS", "" if ENV == "production" else config.demo_data_keys())
# Sources trusted to pass the calling system's identity in the Information-Mediator-Client header (IP or CIDR).
TRUSTED_MEDIATORS = config.env_networks("EGOV_TRUSTED_MEDIATORS")
# The reverse proxies in front of the server, whose X-Forwarded-For names the client (egov.kernel.client_address).
TRUSTED_PROXIES = config.env_networks("EGOV_TRUSTED_PROXIES")

# Signs OpenID Connect ID tokens (egov as single sign-on for agency systems): EGOV_OIDC_RSA_KEY, a PEM or its path.
OIDC_RSA_PRIVATE_KEY = config.oidc_rsa_private_key(DATA_DIR, create=ENV != "production")


# Sign-in with the national eID (VNeID-like OpenID Connect provider): off unless an issuer is configured. Its discovery
# document is read from ``EGOV_EID_ISSUER``/.well-known/openid-configuration. `egov demo` points it at `egov fake-eid`.
EID_ISSUER = config.env("EGOV_EID_ISSUER", "")
EID_CLIENT_ID = config.env("EGOV_EID_CLIENT_ID", "" if ENV == "production" else config.DEMO_EID_CLIENT_ID)
EID_CLIENT_SECRET = config.env("EGOV_EID_CLIENT_SECRET", "" if ENV == "production" else config.DEMO_EID_CLIENT_SECRET)
EID_SCOPES = config.env("EGOV_EID_SCOPES", "openid profile").split()
# Claim names of the identity the provider asserts (OIDC standard names for name and date of birth).
EID_CLAIM_PERSONAL_ID = config.env("EGOV_EID_CLAIM_PERSONAL_ID", "personal_id_number")
EID_CLAIM_FULL_NAME = config.env("EGOV_EID_CLAIM_FULL_NAME", "name")
EID_CLAIM_BIRTHDATE = config.env("EGOV_EID_CLAIM_BIRTHDATE", "birthdate")
EID_REDIRECT_URI = config.env("EGOV_EID_REDIRECT_URI", "")

if ENV == "production":
    config.refuse_unsafe_production(SECRET_KEY, DEBUG, ALLOWED_HOSTS, PERSONAL_DATA_KEYS,
                                    eid=(EID_ISSUER, EID_CLIENT_ID, EID_CLIENT_SECRET),
                                    sms_backend=config.env("EGOV_SMS_BACKEND", config.DEMO_SMS_BACKEND),
                                    sms_url=config.env("EGOV_SMS_URL", ""), oidc_key=OIDC_RSA_PRIVATE_KEY)

INSTALLED_APPS = [
    "egov.accounts.admin_site.EgovAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks_db",
    "ninja",
    "oauth2_provider",
    "egov.kernel",
    "egov.registries",
    "egov.accounts",
    "egov.exchange.apps.ExchangeConfig",
    "egov.notifications",
    "egov.procedures",
    "egov.dossiers",
    "egov.portal",
    "egov.monitoring",
    "egov.payments",
]

MIDDLEWARE = [
    "egov.kernel.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "egov.portal.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "egov.accounts.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "egov.urls"
WSGI_APPLICATION = "egov.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": config.database(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["egov.accounts.backends.AccountBackend"]
SESSION_ENGINE = "egov.accounts.sessions"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
FORMAT_MODULE_PATH = ["egov.kernel.formats"]  # Vietnamese numbers grouped by three (kernel/formats/vi/formats.py)
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Served from the apps' static folders too, so a run without collectstatic (tests, development) still has its CSS.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = config.env_path("EGOV_MEDIA_ROOT", DATA_DIR / "media")
# Dossier attachments (scans, supplements, results): at most this many bytes each; PDF, JPEG or PNG by content.
EGOV_ATTACHMENT_MAX_BYTES = config.env_int("EGOV_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# Drafts (with their files) untouched for this many days are deleted by `egov retention` (and the notify loop, once a
# day): they hold personal data the applicant never sent, or already sent in their dossier. 0 keeps them forever.
DRAFT_RETENTION_DAYS = config.env_int("EGOV_DRAFT_RETENTION_DAYS", 90)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Django's default (100) answered a long scan chosen page by page with a bare "Bad request" that lost the note; the
# forms state their own, lower limits (dossiers.rules.SUPPLY_MAX_FILES) beside the field and keep what was typed.
DATA_UPLOAD_MAX_NUMBER_FILES = 1000

_EMAIL_BACKEND = config.env("EGOV_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": {
            "host": config.env("EGOV_EMAIL_HOST", "127.0.0.1"),
            "port": config.env_int("EGOV_EMAIL_PORT", 1025),
            "username": config.env("EGOV_EMAIL_USER", ""),
            "password": config.env("EGOV_EMAIL_PASSWORD", ""),
            "use_tls": config.env_bool("EGOV_EMAIL_TLS", False),
            "timeout": 10,
        } if _EMAIL_BACKEND.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = config.env("EGOV_EMAIL_FROM", "egov <no-reply@egov.localhost>")

# SMS leaves through a provider (egov.notifications.backends). The demo's outbox backend sends nothing: the demo's
# outbox page (/demo/outbox/) shows what would have been sent. Production refuses it.
SMS_BACKEND = config.env("EGOV_SMS_BACKEND", config.DEMO_SMS_BACKEND)
SMS_URL = config.env("EGOV_SMS_URL", "")
SMS_TOKEN = config.env("EGOV_SMS_TOKEN", "")
DEMO_OUTBOX = SMS_BACKEND.endswith("OutboxSmsBackend") and ENV != "production"
# GovStack Messaging API (egov.govstack.messaging): recipients per batch (capped), and whether client systems' callback
# addresses may be private or loopback addresses (demo and tests only: in production egov calls public addresses only).
MESSAGING_BATCH_MAX = config.env_int("EGOV_MESSAGING_BATCH_MAX", 1000)
# The public statistics page's figures are kept this long per filter and language (0: not kept).
STATISTICS_CACHE_SECONDS = config.env_int("EGOV_STATISTICS_CACHE_SECONDS", 60)
MESSAGING_CALLBACK_PRIVATE = config.env_bool("EGOV_MESSAGING_CALLBACK_PRIVATE", ENV != "production")
# Pages of procedure search results kept this many seconds per process (0: every search reads the database).
SEARCH_CACHE_SECONDS = config.env_int("EGOV_SEARCH_CACHE_SECONDS", 60)

TASKS = {"default": {"BACKEND": config.env("EGOV_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# The ledger's checkpoint signing key lives outside the database (a file path or a PEM in the environment).
LEDGER_CHECKPOINT_KEY_FILE = config.env_path("EGOV_LEDGER_KEY_FILE", DATA_DIR / "keys" / "ledger-checkpoint.pem")

# Login throttling: failures per account and per client address within the window, kept in the database.
LOGIN_THROTTLE_FAILURES = config.env_int("EGOV_LOGIN_THROTTLE_FAILURES", 5)
LOGIN_THROTTLE_WINDOW_SECONDS = config.env_int("EGOV_LOGIN_THROTTLE_WINDOW", 900)
# Wider per client address than per account: a commune office shares one NAT address.
LOGIN_THROTTLE_ADDRESS_FAILURES = config.env_int("EGOV_LOGIN_THROTTLE_ADDRESS_FAILURES", 20)
OTP_TOTP_ISSUER = "egov"
# The admin never shows an authenticator's secret (its key, QR code or otpauth:// address): with it, whoever runs
# the admin could pass any officer's second step. A lost phone is replaced by enrolling a new authenticator.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# egov as OpenID Connect provider (django-oauth-toolkit) for agency systems: see egov.accounts.oidc. Each OAuth
# application belongs to a client system (egov.exchange), registered by the platform administrator.
# DOT's models are swappable; naming them lets egov's migrations depend on them (Django resolves the setting).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": OIDC_RSA_PRIVATE_KEY,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # The logout page asks the person unless the agency system proves who it is with the ID token it holds.
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "egov.accounts.oidc.EgovOAuth2Validator",
    "SCOPES": {
        "openid": _("Know that it is you: a stable identifier of your egov account and how far your identity is "
                    "verified"),
        "profile": _("Your name"),
        "email": _("Your email address"),
        "phone": _("Your phone number"),
        "personal_id": _("Your personal identification number (from the population registry)"),
    },
    "DEFAULT_SCOPES": ["openid"],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": config.env_int("EGOV_OIDC_ACCESS_TOKEN_SECONDS", 3600),
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 14 * 24 * 3600,
    # RFC 9700 (OAuth 2.0 security best current practice), adopted now: no implicit or password grant, S256 PKCE
    # only, access and refresh tokens stored as digests (like API keys: a database copy gives no usable token).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # http is let through here only because registration (egov.exchange.services.register_oidc_client) accepts
    # plain http for loopback addresses alone: every other redirect address is https.
    "ALLOWED_SCHEMES": ["https", "http"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = ENV == "production"
CSRF_COOKIE_SECURE = ENV == "production"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = config.logging_config(config.env("EGOV_LOG_LEVEL", "INFO"))

# Signed electronic results (egov.kernel.pki, egov.dossiers.result_services): where the agencies' signing keys come
# from (a PKCS#11 token, PKCS#12 files, or outside production a demo CA generated under EGOV_PKI_DIR), which CAs are
# trusted, and the public address printed on each result for its verification page.
PKI_DIR = config.env_path("EGOV_PKI_DIR", DATA_DIR / "keys" / "pki")
PKI_DEMO_KEY_TYPE = config.env("EGOV_PKI_DEMO_KEY_TYPE", "rsa2048")  # rsa2048 or p256
RESULT_SIGNING_PKCS12 = config.env("EGOV_RESULT_SIGNING_PKCS12", "")
RESULT_SIGNING_PKCS12_PASSWORD = config.env("EGOV_RESULT_SIGNING_PKCS12_PASSWORD", "")
RESULT_SIGNING_PKCS11_MODULE = config.env("EGOV_RESULT_SIGNING_PKCS11_MODULE", "")
RESULT_SIGNING_PKCS11_TOKEN = config.env("EGOV_RESULT_SIGNING_PKCS11_TOKEN", "")
RESULT_SIGNING_PKCS11_KEY = config.env("EGOV_RESULT_SIGNING_PKCS11_KEY", "")
RESULT_SIGNING_PKCS11_PIN = config.env("EGOV_RESULT_SIGNING_PKCS11_PIN", "")
TRUSTED_CA_FILES = config.env_list("EGOV_TRUSTED_CA_FILES", "")
PUBLIC_URL = config.env("EGOV_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
RESULT_VERIFY_PER_MINUTE = config.env_int("EGOV_RESULT_VERIFY_PER_MINUTE", 60)
RESULT_VERIFY_MAX_BYTES = config.env_int("EGOV_RESULT_VERIFY_MAX_BYTES", 20 * 1024 * 1024)
# Payments (egov.payments): fees paid through a payment gateway or by VietQR bank transfer. Each provider signs its
# callbacks (HMAC-SHA256) with its own secret; the demo's sandbox (`egov sandbox-pay`) uses published demo secrets,
# which production refuses.
PAYMENT_GATEWAY_URL = config.env("EGOV_PAYMENT_GATEWAY_URL", "http://127.0.0.1:8003")
PAYMENT_SECRETS = {
    "gateway": config.env("EGOV_PAYMENT_GATEWAY_SECRET", "" if ENV == "production" else config.DEMO_PAYMENT_GATEWAY_SECRET),
    "bank": config.env("EGOV_PAYMENT_BANK_SECRET", "" if ENV == "production" else config.DEMO_PAYMENT_BANK_SECRET),
}
# A callback whose timestamp is further than this from now is refused (a replay of an old, captured callback).
PAYMENT_CALLBACK_WINDOW_SECONDS = config.env_int("EGOV_PAYMENT_CALLBACK_WINDOW", 300)
# The account VietQR transfers go to: the bank's BIN (Napas) and the agency's collection account number.
PAYMENT_BANK_BIN = config.env("EGOV_PAYMENT_BANK_BIN", "970436")
PAYMENT_BANK_ACCOUNT = config.env("EGOV_PAYMENT_BANK_ACCOUNT", "0071000888999")
PAYMENT_BANK_ACCOUNT_NAME = config.env("EGOV_PAYMENT_BANK_ACCOUNT_NAME", "KHO BAC NHA NUOC")
# Test only (crash tests): seconds the worker waits inside a crediting transaction. Ignored in production.
PAYMENT_APPLY_DELAY_SECONDS = 0.0 if ENV == "production" else float(config.env("EGOV_PAYMENT_APPLY_DELAY", "0") or 0)
if ENV == "production" and (_payment_problems := config.payment_problems(PAYMENT_SECRETS)):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("egov refuses to start with EGOV_ENV=production:\n  - " + "\n  - ".join(_payment_problems))
