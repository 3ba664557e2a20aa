"""Settings, read from the environment in this one place (see .env.example for every variable).

App code reads ``settings.X`` only. Production mode is ``DEBUG`` off (the default); there
``config/checks.py`` refuses weak or missing settings at start-up, naming each (Django system
checks, so ``manage.py check --deploy`` lists them too).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from clever import usertypes
from config.csp import policy as csp_policy

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="") or (_DEV_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Checks deliberately waived by id (config/checks.py), e.g. config.E004 for a test stand-in.
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "config",
    "django_ratelimit",
    "csp",
    # htmx (served from our static files) for the ops pages that update themselves.
    "django_htmx",
    "accounts",
    "rostering",
    "sso",
    "golive",
    "home",
]

# The Clever look-alike: for development, demos and tests only, never in production.
CLEVER_LOOKALIKE_ENABLED = env.bool("CLEVER_LOOKALIKE_ENABLED", default=DEBUG)
CLEVER_LOOKALIKE_DATA_DIR = Path(
    env.str("CLEVER_LOOKALIKE_DATA_DIR", default=str(BASE_DIR / "fixtures" / "demo"))
)
if CLEVER_LOOKALIKE_ENABLED:
    INSTALLED_APPS.append("cleverlike")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.NoStoreForLoggedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Threads in the demo server and the look-alike share the file; wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Django's ModelBackend with a cheaper read of the session's user (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Where logging out lands (accounts logs people out; the home app owns the site root).
LOGOUT_REDIRECT_URL = "home:logged_out"

LANGUAGE_CODE = "en-us"
# One date format everywhere: config/formats/en/formats.py (ISO dates, 24-hour UTC times).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# CSV rostering: every roster file received (SFTP drop, fetch, zip) is kept in the "csv_files"
# storage, so the SFTP service, web and workers need not share a disk. The local filesystem by
# default; in production point CSV_FILES_STORAGE at django-storages' S3 backend
# ("storages.backends.s3.S3Storage", configured by its AWS_* settings).
CSV_FILES_ROOT = Path(env.str("CSV_FILES_ROOT", default=str(VAR_DIR / "csv-files")))
STORAGES["csv_files"] = {
    "BACKEND": env.str("CSV_FILES_STORAGE", default="django.core.files.storage.FileSystemStorage"),
    "OPTIONS": (
        {"location": str(CSV_FILES_ROOT)}
        if "FileSystemStorage" in env.str("CSV_FILES_STORAGE", default="FileSystemStorage")
        else {}
    ),
}
# The SFTP drop (python manage.py sftp_serve): its host key (generated on first start), the
# service's own folder of per-district upload folders, and how long after the last upload
# activity a district's files are processed (Clever waits about five minutes).
SFTP_HOST_KEY_FILE = Path(env.str("SFTP_HOST_KEY_FILE", default=str(VAR_DIR / "sftp_host_key")))
SFTP_ROOT = Path(env.str("SFTP_ROOT", default=str(VAR_DIR / "sftp")))
SFTP_PUBLIC_HOST = env.str("SFTP_PUBLIC_HOST", default="127.0.0.1")
SFTP_PUBLIC_PORT = env.int("SFTP_PUBLIC_PORT", default=2222)
CSV_QUIET_SECONDS = env.int("CSV_QUIET_SECONDS", default=300)
# Seconds a connection to a district's SFTP server (fetch, test connection) may take.
CSV_FETCH_TIMEOUT = env.float("CSV_FETCH_TIMEOUT", default=30.0)

# Cache: Redis in production (CACHE_URL, e.g. redis://127.0.0.1:6379/1); this process's memory
# when unset. Sessions live in Redis when the cache is Redis (config/session_cache.py), else in
# the database (config/session_store.py); both spend as few round trips per login as they can.
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    try:
        CACHES = {"default": env.cache_url_config(CACHE_URL)}
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"CACHE_URL is not a cache URL Django knows: {exc}") from None
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        CACHES["default"]["BACKEND"] = "config.cache.RedisCache"
        # A Redis that stops answering fails a request in seconds instead of holding its thread.
        CACHES["default"].setdefault("OPTIONS", {}).update(
            socket_connect_timeout=env.float("CACHE_CONNECT_TIMEOUT", default=2.0),
            socket_timeout=env.float("CACHE_TIMEOUT", default=2.0),
        )
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CACHE_IS_SHARED = CACHES["default"]["BACKEND"] == "config.cache.RedisCache"
SESSION_ENGINE = "config.session_cache" if CACHE_IS_SHARED else "config.session_store"
# django-ratelimit names caches it knows; Django's own Redis cache (ours wraps it) has the atomic
# INCR it needs (W001). Without Redis, each process counts alone (E003), which is what we want
# for development and a single small server.
SILENCED_SYSTEM_CHECKS += ["django_ratelimit.W001"]
if not CACHE_IS_SHARED:
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003"]

# A login lasts a school day (12 hours: from before the first bell to after-school clubs), so a
# session left open on a classroom device is over by the next morning; logging in again is one
# click through Clever. Django's default is two weeks.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)

# Security: HTTPS cookies in production; Lax so Clever's redirect back keeps the session.
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients):
# plain http is redirected to https in production, except the load balancer's health probe.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A year of HSTS; subdomains and the browsers' preload list are the owner's call (preload needs
# includeSubDomains, so it turns that on too).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_HSTS_INCLUDE_SUBDOMAINS = (
    env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False) or SECURE_HSTS_PRELOAD
)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (config/csp.py), enforced in production. In development it is only
# reported (Django's debug pages use inline scripts), so the browser tests still see violations.
_CSP = csp_policy(exclude_url_prefixes=["/clever/"] if CLEVER_LOOKALIKE_ENABLED else [])
if env.bool("CSP_REPORT_ONLY", default=DEBUG):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
    CONTENT_SECURITY_POLICY = None
else:
    CONTENT_SECURITY_POLICY = _CSP
    CONTENT_SECURITY_POLICY_REPORT_ONLY = None

# --- Clever -------------------------------------------------------------------------------------
CLEVER_CLIENT_ID = env.str("CLEVER_CLIENT_ID", default="demo-client-id" if DEBUG else "")
CLEVER_CLIENT_SECRET = env.str(
    "CLEVER_CLIENT_SECRET", default="demo-client-secret" if DEBUG else ""
)
CLEVER_REDIRECT_URI = env.str(
    "CLEVER_REDIRECT_URI",
    default="http://127.0.0.1:8000/sso/clever/callback/" if DEBUG else "",
)
# Every redirect URI registered with Clever, primary (first) first; Portal logins land on the first.
CLEVER_REDIRECT_URIS = env.list("CLEVER_REDIRECT_URIS", default=[]) or (
    [CLEVER_REDIRECT_URI] if CLEVER_REDIRECT_URI else []
)
# Which Clever app CLEVER_CLIENT_ID belongs to: "development" (sandbox data) or "production".
CLEVER_APP_ENVIRONMENT = env.str("CLEVER_APP_ENVIRONMENT", default="development")
# The development app's client id, so the go-live checklist can tell production credentials apart.
CLEVER_DEV_CLIENT_ID = env.str("CLEVER_DEV_CLIENT_ID", default="")
CLEVER_OAUTH_BASE_URL = env.str("CLEVER_OAUTH_BASE_URL", default="https://clever.com").rstrip("/")
CLEVER_API_BASE_URL = env.str("CLEVER_API_BASE_URL", default="https://api.clever.com").rstrip("/")
CLEVER_HTTP_TIMEOUT = env.float("CLEVER_HTTP_TIMEOUT", default=30.0)
# The longest we wait for Clever's rate-limit window (X-RateLimit-Reset) before giving up.
CLEVER_RATE_LIMIT_MAX_WAIT = env.float("CLEVER_RATE_LIMIT_MAX_WAIT", default=90.0)
CLEVER_HTTP_MAX_RETRIES = env.int("CLEVER_HTTP_MAX_RETRIES", default=5)
CLEVER_HTTP_BACKOFF_BASE = env.float("CLEVER_HTTP_BACKOFF_BASE", default=0.5)

# SSO
CLEVER_SUPPORTED_USER_TYPES = env.list(
    "CLEVER_SUPPORTED_USER_TYPES", default=["teacher", "student"]
)
CLEVER_OIDC_ENABLED = env.bool("CLEVER_OIDC_ENABLED", default=False)
# Email domains whose addresses we trust enough to match a pre-existing local account on.
CLEVER_VERIFIED_EMAIL_DOMAINS = env.list("CLEVER_VERIFIED_EMAIL_DOMAINS", default=[])
# Hits on the login button and the callback per client address (django-ratelimit's "N/s|m|h"):
# a school behind one NAT address logs in at once in the morning, so this is a rush, not a
# person (a login is one to three hits); "" turns it off.
CLEVER_LOGIN_RATE_LIMIT = env.str("CLEVER_LOGIN_RATE_LIMIT", default="1200/m")
# Proxies in front of us that append to X-Forwarded-For; 0: REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_USE_CACHE = "default"
# Refused Clever logins are kept per person this many days for the user support page (successes,
# the go-live checklist's evidence, are kept as before), then pruned daily by Celery beat.
CLEVER_LOGIN_REFUSALS_KEEP_DAYS = env.int("CLEVER_LOGIN_REFUSALS_KEEP_DAYS", default=90)
if CLEVER_LOGIN_REFUSALS_KEEP_DAYS < 1:
    raise ImproperlyConfigured(
        "CLEVER_LOGIN_REFUSALS_KEEP_DAYS must be a number of days (1 or more), "
        f"got {CLEVER_LOGIN_REFUSALS_KEEP_DAYS}"
    )
CLEVER_ACCOUNT_MATCHING = env.list(
    "CLEVER_ACCOUNT_MATCHING", default=["clever_id", "sis_id", "district_username", "email"]
)

# Secure Sync
# The user roles the sync mirrors (all of clever.usertypes.ROLES by default).
CLEVER_SYNC_USER_ROLES = env.list("CLEVER_SYNC_USER_ROLES", default=list(usertypes.ROLES))
CLEVER_SYNC_CRON = env.str("CLEVER_SYNC_CRON", default="0 3 * * *")
CLEVER_SYNC_ARCHIVE_MAX_FRACTION = env.float("CLEVER_SYNC_ARCHIVE_MAX_FRACTION", default=0.10)
CLEVER_SYNC_ARCHIVE_MAX_COUNT = env.int("CLEVER_SYNC_ARCHIVE_MAX_COUNT", default=5000)
# The fraction applies only when more rows than this of one type would be archived: on a small
# district a few ordinary changes (a student leaves with their links) are a large fraction.
CLEVER_SYNC_ARCHIVE_MIN_COUNT = env.int("CLEVER_SYNC_ARCHIVE_MIN_COUNT", default=20)
CLEVER_SYNC_PAGE_SIZE = env.int("CLEVER_SYNC_PAGE_SIZE", default=10000)
# Upper bound on one district's sync; the broker's visibility timeout is set above it.
CLEVER_SYNC_MAX_SECONDS = env.int("CLEVER_SYNC_MAX_SECONDS", default=4 * 3600)
# A running sync writes its heartbeat this often; one silent for the timeout is marked failed
# (its process died), and its lock may be taken over.
CLEVER_SYNC_HEARTBEAT_SECONDS = env.int("CLEVER_SYNC_HEARTBEAT_SECONDS", default=15)
CLEVER_SYNC_HEARTBEAT_TIMEOUT = env.int("CLEVER_SYNC_HEARTBEAT_TIMEOUT", default=120)

# Go-live
# A rostering-only integration (Secure Sync without Clever SSO): the go-live checklist then asks
# for a test sync with the production credentials instead of test logins.
CLEVER_ROSTERING_ONLY = env.bool("CLEVER_ROSTERING_ONLY", default=False)
if CLEVER_APP_ENVIRONMENT not in ("development", "production"):
    raise ImproperlyConfigured(
        "CLEVER_APP_ENVIRONMENT must be 'development' or 'production', "
        f"got {CLEVER_APP_ENVIRONMENT!r}"
    )

# District tokens are encrypted at rest with these keys (first encrypts; all decrypt: rotatable).
# Each is a urlsafe-base64 32-byte Fernet key. Development derives one from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# Production needs keys of their own (config/checks.py): a key derived from SECRET_KEY would
# change, and strand every stored token, the day SECRET_KEY is rotated.
if not FIELD_ENCRYPTION_KEYS and DEBUG and SECRET_KEY:
    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(f"fernet:{SECRET_KEY}".encode()).digest()).decode()
    ]

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or None
# Without a broker the product still works: tasks run in-process.
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CLEVER_SYNC_MAX_SECONDS + 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Workers log through LOGGING below (its redaction filter), not handlers of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False


def _cron(expr: str, name: str = "CLEVER_SYNC_CRON") -> crontab:
    fields = expr.split()
    if len(fields) != 5:
        raise ImproperlyConfigured(
            f"{name} must have 5 fields (minute hour day month weekday), got {expr!r}"
        )
    minute, hour, day, month, weekday = fields
    return crontab(
        minute=minute, hour=hour, day_of_month=day, month_of_year=month, day_of_week=weekday
    )


# Ops alerts: a held or failed run, and a connected district not synced for
# CLEVER_SYNC_STALE_HOURS, are emailed (Django's mail backend) to OPS_EMAILS and shown in the admin.
OPS_EMAILS = env.list("OPS_EMAILS", default=[])
CLEVER_SYNC_STALE_HOURS = env.int("CLEVER_SYNC_STALE_HOURS", default=26)
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Seconds before a mail server that does not answer is given up on (alerts only log it).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="clever-sync@localhost")

# A district that disconnected this many days ago has its live records archived (kept until
# purged); 0: never.
CLEVER_DISCONNECT_ARCHIVE_DAYS = env.int("CLEVER_DISCONNECT_ARCHIVE_DAYS", default=30)
if CLEVER_DISCONNECT_ARCHIVE_DAYS < 0:
    raise ImproperlyConfigured(
        f"CLEVER_DISCONNECT_ARCHIVE_DAYS must be 0 (never) or a number of days, "
        f"got {CLEVER_DISCONNECT_ARCHIVE_DAYS}"
    )

CELERY_BEAT_SCHEDULE = {
    "nightly-clever-sync": {
        "task": "rostering.tasks.sync_all_districts",
        "schedule": _cron(CLEVER_SYNC_CRON),
    },
    # Districts that left: their records are archived CLEVER_DISCONNECT_ARCHIVE_DAYS later.
    "archive-disconnected-districts": {
        "task": "rostering.tasks.archive_disconnected_districts",
        "schedule": crontab(minute="43", hour="4"),
    },
    # Connected districts not synced for CLEVER_SYNC_STALE_HOURS: one email per stale spell.
    "alert-stale-districts": {
        "task": "rostering.tasks.alert_stale_districts",
        "schedule": crontab(minute="29"),
    },
    # Runs whose process died (no heartbeat for CLEVER_SYNC_HEARTBEAT_TIMEOUT) are marked failed.
    "fail-dead-runs": {
        "task": "rostering.tasks.fail_dead_runs",
        "schedule": crontab(minute="*/5"),
    },
    # CSV districts: schedules that are due, and drops quiet for CSV_QUIET_SECONDS, each minute.
    "csv-due-runs": {
        "task": "rostering.tasks.csv_run_due",
        "schedule": crontab(),
    },
    # Sessions stored as database rows (no CACHE_URL) past SESSION_COOKIE_AGE, hourly.
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(minute="11"),
    },
    # Housekeeping off the login path: redeemed-code hashes older than a day, hourly.
    "prune-redeemed-codes": {
        "task": "sso.tasks.prune_redeemed_codes",
        "schedule": crontab(minute="17"),
    },
    # Refused-login records older than CLEVER_LOGIN_REFUSALS_KEEP_DAYS, daily.
    "prune-login-refusals": {
        "task": "sso.tasks.prune_login_refusals",
        "schedule": crontab(minute="37", hour="4"),
    },
}
# Between nightly syncs, apply Clever's events (e.g. "*/15 * * * *"); empty: off. Events are
# opt-in per district in Clever's dashboard, and only districts with a full sync are polled.
CLEVER_EVENTS_CRON = env.str("CLEVER_EVENTS_CRON", default="")
if CLEVER_EVENTS_CRON:
    CELERY_BEAT_SCHEDULE["clever-events"] = {
        "task": "rostering.tasks.apply_all_district_events",
        "schedule": _cron(CLEVER_EVENTS_CRON, "CLEVER_EVENTS_CRON"),
    }

# --- Logging: never write tokens, codes or secrets ----------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "urllib3": {"level": "WARNING"},
    },
}
