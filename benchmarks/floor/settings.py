"""The floor's Django settings: one app, no middleware, the project's database pool."""

import os

import dj_database_url

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["rest_framework", "benchmarks.floor"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "benchmarks.floor.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The same pool as the project's (bokacheckout/settings.py), so the two differ only in
# what a request does.
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
_pool_size = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "3"))
if _pool_size:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": _pool_size,
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT_SECONDS", "10")),
    }

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}

STRIPE_SECRET_KEY = os.environ["STRIPE_SECRET_KEY"]
STRIPE_API_BASE = os.environ["STRIPE_API_BASE"]
STRIPE_CONNECTED_ACCOUNT = os.environ.get("FLOOR_CONNECTED_ACCOUNT", "acct_1DemoSalonBokaMera")
