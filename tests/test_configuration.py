"""Configuration comes from the environment, with safe defaults."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'db': s.DATABASES['default']['ENGINE'], "
    "'name': str(s.DATABASES['default']['NAME']), 'hosts': s.ALLOWED_HOSTS, "
    "'stripe_base': s.STRIPE_API_BASE}))"
)


PRINT_HTTPS_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER]))"
)
# What the README's Deploying section says a production service is given.
PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "pay.example.com",
    "DATABASE_URL": "postgres://bokacheckout:secret@db.internal:5432/bokacheckout",
    "STRIPE_SECRET_KEY": "sk_live_not_a_real_key",
    "STRIPE_WEBHOOK_SECRET": "whsec_not_a_real_secret",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def run_python(argv: list[str], **environ) -> subprocess.CompletedProcess:
    """``python argv`` in this environment minus the service's variables, plus ``environ``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "STRIPE_", "REDIS_", "API_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="bokacheckout.settings", **environ)
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def load_settings(**environ):
    return run_python(["-c", PRINT_SETTINGS], **environ)


def https_settings(**environ) -> list:
    return json.loads(run_python(["-c", PRINT_HTTPS_SETTINGS], **environ).stdout)


def test_without_a_secret_key_the_service_refuses_to_start():
    result = load_settings()

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_asked_and_sqlite_is_the_default_database():
    result = load_settings(DJANGO_SECRET_KEY="x" * 50)

    loaded = json.loads(result.stdout)
    assert loaded["debug"] is False
    assert loaded["db"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(ROOT / "db.sqlite3")


def test_debug_may_run_without_a_secret_key():
    result = load_settings(DJANGO_DEBUG="1")

    assert json.loads(result.stdout)["debug"] is True


def test_database_hosts_and_stripe_base_come_from_the_environment():
    result = load_settings(
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://postgres@db.internal:5432/bokacheckout",
        DJANGO_ALLOWED_HOSTS="pay.example.com, api.example.com",
        STRIPE_API_BASE="http://127.0.0.1:12111",
    )

    loaded = json.loads(result.stdout)
    assert loaded["db"] == "django.db.backends.postgresql"
    assert loaded["hosts"] == ["pay.example.com", "api.example.com"]
    assert loaded["stripe_base"] == "http://127.0.0.1:12111"


def test_check_deploy_finds_nothing_to_warn_about_under_the_production_variables():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_readme_names_the_production_variables_in_deploying():
    deploying = (ROOT / "README.md").read_text().split("\n## Deploying\n", 1)[1]

    assert [name for name in PRODUCTION if f"`{name}`" not in deploying] == []


def test_with_debug_off_https_is_required_by_default():
    assert https_settings(DJANGO_SECRET_KEY="x" * 50) == [
        True,
        365 * 24 * 60 * 60,
        True,
        True,
        True,
        True,
        None,
    ]


def test_with_debug_on_plain_http_works():
    assert https_settings(DJANGO_DEBUG="1") == [False, 0, False, False, False, False, None]


def test_each_https_setting_comes_from_the_environment():
    assert https_settings(
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="3600",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
        DJANGO_SECURE_HSTS_PRELOAD="false",
        DJANGO_SESSION_COOKIE_SECURE="0",
        DJANGO_CSRF_COOKIE_SECURE="0",
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
    ) == [False, 3600, False, False, False, False, ["HTTP_X_FORWARDED_PROTO", "https"]]


PRINT_CACHE_BACKEND = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.CACHES['default']['BACKEND'], s.CACHES['default'].get('LOCATION', ''))"
)


def test_redis_url_shares_the_cache_through_djangos_redis_backend():
    result = run_python(
        ["-c", PRINT_CACHE_BACKEND], DJANGO_DEBUG="1", REDIS_URL="redis://cache.internal:6379/0"
    )

    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache.internal:6379/0",
    ]


def test_without_redis_url_each_process_counts_in_local_memory():
    result = run_python(["-c", PRINT_CACHE_BACKEND], DJANGO_DEBUG="1")

    assert result.stdout.split() == ["django.core.cache.backends.locmem.LocMemCache"]


PRINT_THROTTLING = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'], "
    "s.REST_FRAMEWORK['NUM_PROXIES']]))"
)


def test_by_default_a_key_gets_120_a_minute_and_each_remote_addr_30_failed_attempts():
    result = run_python(["-c", PRINT_THROTTLING], DJANGO_DEBUG="1")

    assert json.loads(result.stdout) == [{"api_key": "120/min", "failed_key": "30/min"}, 0]


def test_throttle_rates_and_trusted_proxies_come_from_the_environment():
    result = run_python(
        ["-c", PRINT_THROTTLING],
        DJANGO_DEBUG="1",
        API_THROTTLE_RATE="600/hour",
        API_FAILED_KEY_RATE="5/m",
        API_NUM_PROXIES="2",
    )

    assert json.loads(result.stdout) == [{"api_key": "600/hour", "failed_key": "5/m"}, 2]


def test_a_malformed_throttle_rate_stops_the_service_from_starting():
    result = run_python(["-c", PRINT_THROTTLING], DJANGO_DEBUG="1", API_FAILED_KEY_RATE="30")

    assert result.returncode != 0
    assert "API_FAILED_KEY_RATE must be a rate such as 120/min" in result.stderr


def test_a_negative_number_of_proxies_stops_the_service_from_starting():
    result = run_python(["-c", PRINT_THROTTLING], DJANGO_DEBUG="1", API_NUM_PROXIES="-1")

    assert result.returncode != 0
    assert "API_NUM_PROXIES must be a whole number, 0 or more" in result.stderr


PRINT_DATABASE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; "
    "print(json.dumps({'pool': d.get('OPTIONS', {}).get('pool'), 'age': d['CONN_MAX_AGE']}))"
)
POSTGRES_URL = "postgres://bokacheckout:secret@db.internal:5432/bokacheckout"


def database_settings(**environ) -> dict:
    result = run_python(["-c", PRINT_DATABASE], DJANGO_SECRET_KEY="x" * 50, **environ)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_postgresql_connections_come_from_a_pool_of_three_per_process_by_default():
    assert database_settings(DATABASE_URL=POSTGRES_URL) == {
        "pool": {"min_size": 1, "max_size": 3, "timeout": 10.0},
        "age": 0,
    }


def test_the_pool_is_sized_from_the_environment():
    assert database_settings(
        DATABASE_URL=POSTGRES_URL, DATABASE_POOL_MAX_SIZE="8", DATABASE_POOL_TIMEOUT_SECONDS="2.5"
    )["pool"] == {"min_size": 1, "max_size": 8, "timeout": 2.5}


def test_without_the_pool_connections_may_persist_instead():
    assert database_settings(
        DATABASE_URL=POSTGRES_URL, DATABASE_POOL_MAX_SIZE="0", DATABASE_CONN_MAX_AGE="60"
    ) == {"pool": None, "age": 60}


def test_the_pool_and_persistent_connections_are_refused_together():
    result = run_python(
        ["-c", PRINT_DATABASE],
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL=POSTGRES_URL,
        DATABASE_CONN_MAX_AGE="60",
    )

    assert result.returncode != 0
    assert "DATABASE_CONN_MAX_AGE keeps connections without the pool" in result.stderr


def test_sqlite_has_no_pool():
    assert database_settings() == {"pool": None, "age": 0}
