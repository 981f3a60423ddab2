"""Django settings, all taken from the environment (see .env.example)."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from guanjia.envvars import env_bool, env_int, env_list, env_path, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("GUANJIA_DATA_DIR", BASE_DIR.parent / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("GUANJIA_DEBUG", False)
TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

_DEV_SECRET = "dev-only-insecure-secret-key-change-me"
SECRET_KEY = env_str("GUANJIA_SECRET_KEY", _DEV_SECRET)
# Production (GUANJIA_PRODUCTION=1) refuses the shipped default key: sessions and
# invitation tokens signed with a public key could be forged.
PRODUCTION = env_bool("GUANJIA_PRODUCTION", False)
if PRODUCTION and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 40):
    raise ImproperlyConfigured(
        "GUANJIA_SECRET_KEY must be set to a random value of 40+ characters in production"
    )
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("GUANJIA_DEBUG must be off in production")

ALLOWED_HOSTS = env_list("GUANJIA_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("GUANJIA_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("GUANJIA_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "guanjia.core.admin_site.GuanjiaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "huey.contrib.djhuey",
    "guanjia.core",
    "guanjia.enterprises",
    "guanjia.appeals",
    "guanjia.visits",
    "guanjia.campaigns",
    "guanjia.investment",
    "guanjia.policies",
    "guanjia.exchange",
    "guanjia.windows",
    "guanjia.knowledge",
    "guanjia.dispatch",
    "guanjia.talent",
    "guanjia.capital",
    "guanjia.cockpit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "guanjia.core.http.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above the session and the user: a database outage in them or in a view becomes a 503 that
    # keeps what the user typed (it needs no query itself).
    "guanjia.core.faults.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "guanjia.core.http.RateLimitMiddleware",
    # After the user is known: the policy's idle timeout, forced password change and TOTP enrolment.
    "guanjia.core.middleware.SecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "guanjia.urls"
WSGI_APPLICATION = "guanjia.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanjia.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": parse_database_url(DATABASE_URL)}
else:
    # SQLite: IMMEDIATE transactions take the write lock at BEGIN, so a transaction
    # that reads and then writes waits for the lock (up to `timeout` seconds)
    # instead of failing at once with "database is locked". WAL is switched on by
    # a connection_created hook in guanjia.core.apps.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "guanjia.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            # Race tests need a file database: threads in an in-memory one share
            # a single connection and would never race.
            # One file per test process, so that parallel runs never share (and corrupt) it.
            "TEST": {"NAME": DATA_DIR / f"test-guanjia-{os.getpid()}.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

# --- Background work (huey) -------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
HUEY_IMMEDIATE = env_bool("GUANJIA_HUEY_IMMEDIATE", TESTING)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": env_str("GUANJIA_HUEY_NAME", "guanjia"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "utc": False,
        "consumer": {"workers": env_int("GUANJIA_HUEY_WORKERS", 2, minimum=1), "worker_type": "thread"},
    }
else:
    # huey's SQLite storage takes exclusive locks: it gets a file of its own,
    # never Django's database.
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "guanjia",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "utc": False,
        "consumer": {"workers": env_int("GUANJIA_HUEY_WORKERS", 2, minimum=1), "worker_type": "thread"},
    }

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Length, complexity and history as the security admin's policy sets them (guanjia.core.security).
    {"NAME": "guanjia.core.security.PolicyPasswordValidator"},
    {"NAME": "guanjia.core.security.PasswordHistoryValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # PBKDF2's cost is the point in production and minutes of waiting in a test run.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
LOCKOUT_THRESHOLD = env_int("GUANJIA_LOCKOUT_THRESHOLD", 5, minimum=1)
LOCKOUT_MINUTES = env_int("GUANJIA_LOCKOUT_MINUTES", 15, minimum=1)
SESSION_COOKIE_AGE = env_int("GUANJIA_SESSION_IDLE_SECONDS", 1800, minimum=60)
# The settings above and this one are the security policy's defaults until the security admin saves it
# (/system/security/); from then on the policy row decides. Each process re-reads it this often; in
# tests never by itself (guanjia/conftest.py resets it per test), so that query counts stay exact.
TOTP_REQUIRED_FOR_ADMINS = env_bool("GUANJIA_TOTP_REQUIRED_FOR_ADMINS", PRODUCTION)
SECURITY_POLICY_CACHE_SECONDS = env_int(
    "GUANJIA_SECURITY_POLICY_CACHE_SECONDS", 86400 if TESTING else 10, minimum=0
)
# A session ends this long after its login even in continuous use (0: never); the policy's default.
SESSION_MAX_HOURS = env_int("GUANJIA_SESSION_MAX_HOURS", 12, minimum=0)
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: every request pushes the expiry back
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("GUANJIA_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: htmx sends the token from base.html's hx-headers,
# Swagger UI from its template.
CSRF_COOKIE_HTTPONLY = True
INVITATION_DAYS = env_int("GUANJIA_INVITATION_DAYS", 14, minimum=1)

# --- I18N -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_path("GUANJIA_STATIC_ROOT", DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at every start without it
MEDIA_URL = "/media/"
MEDIA_ROOT = env_path("GUANJIA_MEDIA_ROOT", DATA_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Uploads above Django's default 2.5 MB go to a temporary file, not into a web worker's memory:
# an upload of ten 20 MB attachments must not hold 200 MB there.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2621440
# A hard cap per request, above the 10 attachments that guanjia.appeals.attachments refuses with a message.
DATA_UPLOAD_MAX_NUMBER_FILES = 20
# Appeal attachments: outside the web root under random keys, handed out by the application only,
# after it checked who asks. Back it up with the database.
ATTACHMENTS_DIR = env_path("GUANJIA_ATTACHMENTS_DIR", DATA_DIR / "attachments")
ATTACHMENT_MAX_BYTES = env_int("GUANJIA_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
_attachments = ATTACHMENTS_DIR.resolve()
for _served in (STATIC_ROOT, MEDIA_ROOT, BASE_DIR / "static"):
    if _served.resolve() in (_attachments, *_attachments.parents):
        raise ImproperlyConfigured(
            f"GUANJIA_ATTACHMENTS_DIR ({ATTACHMENTS_DIR}) must not lie inside a served directory ({_served})"
        )
IMPORT_MAX_BYTES = env_int("GUANJIA_IMPORT_MAX_MB", 50, minimum=1) * 1024 * 1024
# Files with more rows than this are validated and written by the worker, with a progress bar.
IMPORT_BACKGROUND_ROWS = env_int("GUANJIA_IMPORT_BACKGROUND_ROWS", 2000, minimum=1)
# A job validating or writing whose heartbeat is older than this lost its worker: a sweeper restarts it.
IMPORT_STALE_MINUTES = env_int("GUANJIA_IMPORT_STALE_MINUTES", 10, minimum=1)

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "guanjia.core.api.GuanjiaAutoSchema",
    "EXCEPTION_HANDLER": "guanjia.core.api.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Guanjia API",
    "DESCRIPTION": "管家 — enterprise service platform API. Every endpoint is scoped to the caller's role and unit.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share the field name "status" (appeals and campaigns): each gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "guanjia.appeals.models.Status",
        "CampaignStatusEnum": "guanjia.campaigns.models.CampaignStatus",
        "BriefingKindEnum": "guanjia.cockpit.models.Briefing.Kind",
        # The rating's level keeps its name beside the cockpit rankings' level (department/zone/steward).
        "LevelEnum": "guanjia.appeals.models.RatingLevel",
        "RankingLevelEnum": "guanjia.cockpit.serializers.LEVELS",
        # A visit's mode keeps its name beside a lead log's mode; a lead's status beside an appeal's.
        "ModeEnum": "guanjia.visits.models.Mode",
        "LeadStatusEnum": "guanjia.investment.models.LeadStatus",
        "LeadLogModeEnum": "guanjia.investment.models.LeadLog.Mode",
    },
    # No call out at run time: Swagger UI would otherwise send the schema to its online validator.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- Outbox delivery (SMS, mail, webhooks) --------------------------------
SMS_BACKEND = env_str("GUANJIA_SMS_BACKEND", "guanjia.core.outbox.LogSmsBackend")
OUTBOX_MAX_ATTEMPTS = env_int("GUANJIA_OUTBOX_MAX_ATTEMPTS", 5, minimum=1)
OUTBOX_LEASE_SECONDS = env_int("GUANJIA_OUTBOX_LEASE_SECONDS", 300, minimum=10)
EMAIL_BACKEND = env_str("GUANJIA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("GUANJIA_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("GUANJIA_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("GUANJIA_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("GUANJIA_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("GUANJIA_EMAIL_USE_TLS", False)
# Shorter than the outbox lease, so a hanging relay never lets a second worker send the same mail.
EMAIL_TIMEOUT = env_int("GUANJIA_EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("GUANJIA_FROM_EMAIL", "guanjia@localhost")

# --- Audit ----------------------------------------------------------------
AUDIT_RETENTION_DAYS = env_int("GUANJIA_AUDIT_RETENTION_DAYS", 365, minimum=180)
AUDIT_UNSEALED_GRACE_MINUTES = env_int("GUANJIA_AUDIT_UNSEALED_GRACE_MINUTES", 5, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("GUANJIA_LOG_LEVEL", "INFO")},
    # The huey consumer installs a handler of its own: do not print each of its lines twice.
    "loggers": {"huey": {"propagate": False}},
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- HTTP hardening (guanjia.core.http, docs/security.md) -------------------
# Only behind a TLS-terminating proxy that sets X-Forwarded-Proto itself (and strips a
# client's): otherwise any client could claim HTTPS.
BEHIND_TLS_PROXY = env_bool("GUANJIA_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int(
    "GUANJIA_HSTS_SECONDS", 31536000 if PRODUCTION and BEHIND_TLS_PROXY else 0, minimum=0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("GUANJIA_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = env_bool("GUANJIA_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # local health probes speak plain HTTP
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSP_REPORT_ONLY = env_bool("GUANJIA_CSP_REPORT_ONLY", False)
# Proxies (addresses or networks) whose X-Forwarded-For is believed: see guanjia.core.http.client_ip.
TRUSTED_PROXIES = env_list("GUANJIA_TRUSTED_PROXIES", [])
# Where accounts may work from (guanjia.core.http.place_refusal): the three administrators only
# from these networks (empty: anywhere); on the portal hosts only accounts whose roles are all
# among GUANJIA_PORTAL_ROLES.
ADMIN_NETWORKS = env_list("GUANJIA_ADMIN_NETWORKS", [])
PORTAL_HOSTS = [host.lower() for host in env_list("GUANJIA_PORTAL_HOSTS", [])]
PORTAL_ROLES = env_list("GUANJIA_PORTAL_ROLES", ["enterprise_user"])
for _network in (*TRUSTED_PROXIES, *ADMIN_NETWORKS):
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"GUANJIA_TRUSTED_PROXIES and GUANJIA_ADMIN_NETWORKS must list IP addresses or networks, got {_network!r}"
        ) from None
# name: (requests, per seconds); 0 requests switches a limit off.
RATE_LIMITS = {
    "login_ip": (env_int("GUANJIA_RATE_LOGIN_IP", 20, minimum=0), 300),
    "login_username": (env_int("GUANJIA_RATE_LOGIN_USERNAME", 10, minimum=0), 300),
    "appeal_account": (env_int("GUANJIA_RATE_APPEAL_ACCOUNT", 10, minimum=0), 3600),
    "appeal_ip": (env_int("GUANJIA_RATE_APPEAL_IP", 30, minimum=0), 3600),
    "invite_ip": (env_int("GUANJIA_RATE_INVITE_IP", 20, minimum=0), 3600),
    "invite_token": (env_int("GUANJIA_RATE_INVITE_TOKEN", 10, minimum=0), 3600),
}
