"""Test settings: the real settings, with defaults a test run needs and no secret of anyone's."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("STRIPE_SECRET_KEY", "sk_test_emulator")
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_test_emulator")
os.environ.setdefault("STRIPE_MAX_NETWORK_RETRIES", "1")
os.environ.setdefault("STRIPE_TIMEOUT_SECONDS", "2")
os.environ.setdefault("STRIPE_RATE_LIMIT_BACKOFF_SECONDS", "0.01")
# The test client and the servers tests start speak plain http, like dev.py run.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")

from bokacheckout.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests never run collectstatic: WhiteNoise serves the apps' static files through the
# finders (WHITENOISE_USE_FINDERS), with no STATIC_ROOT to look in and warn about.
STATIC_ROOT = None

# One test database per run, so that two runs side by side never share one.
_database = DATABASES["default"]  # noqa: F405
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the concurrency and live-server tests need several
    # connections to see one database with real locking.
    _database["TEST"] = {"NAME": str(BASE_DIR / f"test_db_{os.getpid()}.sqlite3")}  # noqa: F405
else:
    _database["TEST"] = {"NAME": f"test_{_database['NAME']}_{os.getpid()}"}
    if "pool" in _database.get("OPTIONS", {}):
        # Tests hold connections on several threads at once (row locks, races); the pool
        # opens them as needed instead of holding the production size open.
        _database["OPTIONS"]["pool"].update(min_size=1, max_size=10)

# Background tasks run at once, on commit, so a test sees their effects when its
# request returns; tests of the queue itself switch to the database backend.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
