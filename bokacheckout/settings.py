"""Settings for bokacheckout, read from the environment (12-factor).

This is the only module that reads the environment; everything else reads
``django.conf.settings``.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers
from django.core.exceptions import ImproperlyConfigured

from bokacheckout.time_budget import (
    DEFAULT_STRIPE_MAX_NETWORK_RETRIES,
    DEFAULT_STRIPE_TIMEOUT_SECONDS,
    stripe_call_budget,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """A header name such as ``X-Forwarded-Proto`` as Django's ("HTTP_X_FORWARDED_PROTO",
    "https"); None when unset."""
    header = os.environ.get(name, "").strip()
    if not header:
        return None
    return "HTTP_" + header.upper().replace("-", "_"), "https"


# DRF's rate format: requests per second, minute, hour or day ("120/min", "30/m").
_RATE = re.compile(r"[0-9]+/[smhd][a-z]*")


def _env_rate(name: str, default: str) -> str:
    """A DRF throttle rate, checked here: a malformed one would fail every request."""
    rate = os.environ.get(name, default).strip()
    if not _RATE.fullmatch(rate):
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 120/min (per s, min, hour or day), not {rate!r}."
        )
    return rate


def _env_count(name: str, default: int) -> int:
    value = os.environ.get(name, str(default)).strip()
    if not value.isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number, 0 or more, not {value!r}.")
    return int(value)


DEBUG = _env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-only-key"  # noqa: S105 - only ever used with DEBUG on

ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# HTTPS only, by default whenever DEBUG is off (what `manage.py check --deploy` asks for);
# off under DEBUG, as dev.py serves plain http on localhost. Each can be turned off alone.
SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 60 * 60))
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = _env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
# Behind a proxy that ends TLS: the header it sets to the scheme, overwriting any a client
# sent. Unset by default, since trusting a header nobody overwrites lets clients claim https.
SECURE_PROXY_SSL_HEADER = _env_proxy_ssl_header("DJANGO_SECURE_PROXY_SSL_HEADER")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "articles",
    "checkouts",
    "bokacheckout.demo",
]

MIDDLEWARE = [
    # Answers CORS preflights of the API, and adds CORS headers to every answer of it.
    "corsheaders.middleware.CorsMiddleware",
    # A foreign Host, a body over DATA_UPLOAD_MAX_MEMORY_SIZE: refused in the API's shape
    # before anything reads the request.
    "checkouts.api.middleware.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves static files (the admin's, the API docs') under gunicorn and with DEBUG off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bokacheckout.urls"
WSGI_APPLICATION = "bokacheckout.wsgi.application"
ASGI_APPLICATION = "bokacheckout.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's own pages (the landing page); the apps' are in their templates/.
        "DIRS": [BASE_DIR / "bokacheckout" / "templates"],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
# PostgreSQL connections come from a pool in each process (psycopg_pool, through Django's
# "pool" option): at most DATABASE_POOL_MAX_SIZE per process, however many threads serve
# requests. 0 turns the pool off (then DATABASE_CONN_MAX_AGE applies).
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "3"))
# How long a request waits for a free pooled connection before it answers 503.
DATABASE_POOL_TIMEOUT_SECONDS = float(os.environ.get("DATABASE_POOL_TIMEOUT_SECONDS", "10"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_MAX_SIZE:
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured(
            "DATABASE_CONN_MAX_AGE keeps connections without the pool: set it only with "
            "DATABASE_POOL_MAX_SIZE=0."
        )
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        # One opened up front; more as requests need them (a command or the task worker
        # rarely does), closed again after 10 idle minutes (psycopg_pool's max_idle).
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT_SECONDS,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock when a transaction starts, so two
    # writers queue up instead of failing with "database is locked" mid-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
# How long recording a payment waits for a row another request holds (PostgreSQL)
# before answering "retry later"; SQLite waits its own busy timeout above.
ROW_LOCK_TIMEOUT_MS = int(os.environ.get("ROW_LOCK_TIMEOUT_MS", "5000"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Without collectstatic, WhiteNoise finds static files in the apps, as runserver does.
WHITENOISE_USE_FINDERS = True

# --- API -------------------------------------------------------------------

API_KEY_CUSTOM_HEADER = "HTTP_X_API_KEY"

# The largest request body taken (bigger: 413, unread), and the most form fields, or JSON
# keys and items, in one body (more: 400).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# Booking widgets on these sites may call the API from the browser (django-cors-headers):
# a preflight needs no API key, and other origins get no CORS headers.
CORS_ALLOWED_ORIGINS = _env_list("CORS_ALLOWED_ORIGINS")
# The API's paths, in any case (ServiceStack matches them so): not the admin or the docs.
CORS_URLS_REGEX = r"(?i)^/(payment/|(json|xml|csv)/reply/)"
CORS_ALLOW_METHODS = ("POST", "OPTIONS")
CORS_ALLOW_HEADERS = (*default_headers, "x-api-key", "idempotency-key")
CORS_EXPOSE_HEADERS = ("Idempotent-Replayed", "Retry-After")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["checkouts.api.authentication.CompanyApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["checkouts.api.authentication.HasCompanyApiKey"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "checkouts.api.renderers.ServiceStackCSVRenderer",
        "checkouts.api.renderers.ServiceStackXMLRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "checkouts.api.parsers.BoundedJSONParser",
        "checkouts.api.parsers.NestedFormParser",
        "checkouts.api.parsers.ServiceStackCSVParser",
        "checkouts.api.parsers.ServiceStackXMLParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "checkouts.api.negotiation.ServiceStackNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["checkouts.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": _env_rate("API_THROTTLE_RATE", "120/min"),
        # Requests with a missing or invalid X-Api-Key, per client address.
        "failed_key": _env_rate("API_FAILED_KEY_RATE", "30/min"),
    },
    # The client's address is REMOTE_ADDR unless this many proxies in front each append
    # to X-Forwarded-For. DRF's default (None) would believe whatever a client sends.
    "NUM_PROXIES": _env_count("API_NUM_PROXIES", 0),
    "EXCEPTION_HANDLER": "checkouts.api.errors.servicestack_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI schema (/openapi.json, /openapi.yaml) and Swagger UI (/docs/): the views
# are in checkouts/api/docs.py, what the schema says beyond the code in checkouts/api/schema/.
SPECTACULAR_SETTINGS = {
    "TITLE": "bokacheckout",
    "VERSION": "1.0.0",
    "DESCRIPTION": """\
Takes payments for bookings through Stripe Checkout: BokaMera's Stripe Checkout 1.0 API
(`POST /payment/stripe/v1/checkout`), re-implemented so that its clients can call it
unchanged. The README covers running and operating the service.

**Requests** are read as ServiceStack reads them. Paths match in any letter case, with or
without a trailing slash, and each request DTO also has ServiceStack's predefined route
(`/json/reply/StripeV1CreateCheckout`, `/csv/reply/...`, `/xml/reply/...`). Field names
match in any case (`CompanyId`, `companyid`), and unknown fields are ignored. A field the
body lacks may come in the query string (the body wins). A body that is a JSON object is
read as JSON whatever its `Content-Type`; otherwise it may be form-encoded, CSV (a header
row and one row of values) or XML (the request DTO as the root element). A list given as
one text value (a form field, a CSV cell, a query-string value) is JSON or ServiceStack's
JSV: `Articles=[{ArticleId:1,ArticleTypeId:1}]`; in a form or CSV it may also be indexed
names (`Articles[0].ArticleId=1`).

**Responses** are JSON, CSV or XML, chosen by the `Accept` header (`text/xml` is XML), a
suffix on the path (`/payment/stripe/v1/checkout.csv`, in any case), the predefined route,
or `?format=`. Every error, in every format, is an `ErrorResponse`: an unknown path gets
404, another method 405, a foreign `Host` 400 and a body over the limit 413, all in the
same shape and the format asked for.
""",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "PREPROCESSING_HOOKS": ["checkouts.api.schema.hooks.only_api_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "checkouts.api.schema.hooks.name_xml_roots",
    ],
    # A refund's Status and a checkout's are different enums.
    "ENUM_NAME_OVERRIDES": {
        "CheckoutStatusEnum": "checkouts.models.CheckoutStatus",
        "RefundStatusEnum": "checkouts.models.RefundStatus",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the online validator: the docs page loads nothing from elsewhere.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- Shared state --------------------------------------------------------------
# The API's throttle counters and expire_checkouts' per-account Stripe rate limit
# live in the default cache. With REDIS_URL, Django's Redis cache: every worker and
# host counts together. Without it, local memory: each process counts on its own,
# which is right for one process (the embedded default) and too generous for more.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks ----------------------------------------------------------
# Django's Tasks framework (the django-tasks backport). The database backend needs no
# other server; `manage.py db_worker` runs the tasks.
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# --- Demo pages --------------------------------------------------------------

# /demo/ plays a booking widget against the real API (dev.py run turns it on).
DEMO_PAGES_ENABLED = _env_bool("DJANGO_DEMO_PAGES")

# --- Stripe ----------------------------------------------------------------

STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
# Points the SDK at a local Stripe stand-in (the project's emulator, stripe-mock).
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# For Stripe.js on the demo pages (pk_...); unused with STRIPE_API_BASE (the emulator).
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
# Each SDK try's timeout and its retries; together they must fit the server's worker
# timeout (gunicorn.conf.py checks).
STRIPE_MAX_NETWORK_RETRIES = int(
    os.environ.get("STRIPE_MAX_NETWORK_RETRIES", DEFAULT_STRIPE_MAX_NETWORK_RETRIES)
)
STRIPE_TIMEOUT_SECONDS = float(
    os.environ.get("STRIPE_TIMEOUT_SECONDS", DEFAULT_STRIPE_TIMEOUT_SECONDS)
)
STRIPE_CALL_BUDGET_SECONDS = stripe_call_budget(STRIPE_TIMEOUT_SECONDS, STRIPE_MAX_NETWORK_RETRIES)
# reconcile_checkouts leaves an unknown open session alone this long: its create may
# still be storing it (a create's Stripe call ends within the budget above).
UNRECORDED_SESSION_GRACE = timedelta(seconds=STRIPE_CALL_BUDGET_SECONDS + 60)
# A refund asked of Stripe whose answer is not recorded is taken to be in flight this long;
# after that, a retry with its Idempotency-Key or reconcile_checkouts asks Stripe again.
REFUND_IN_FLIGHT_GRACE = timedelta(seconds=STRIPE_CALL_BUDGET_SECONDS + 60)
# First wait after a 429 in expire_checkouts; doubled on each retry.
STRIPE_RATE_LIMIT_BACKOFF_SECONDS = float(os.environ.get("STRIPE_RATE_LIMIT_BACKOFF_SECONDS", "1"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # The SDK logs response bodies at DEBUG, and those carry checkout
        # client secrets, which must never reach a log.
        "stripe": {"level": "WARNING", "propagate": True},
    },
}
