"""The machine's Redis (127.0.0.1:6379) as the default cache, for tests of shared limits.

Each test gets its own key prefix, and only its own keys are deleted afterwards, so runs
side by side (SQLite and PostgreSQL, or two developers) never reset each other's counts.
Without Redis these tests skip, unless ``BOKACHECKOUT_REQUIRE_REDIS`` is set (CI sets it),
in which case the run stops: a limit shared across hosts is only proven on a shared store.
"""

import os
import uuid

import pytest
import redis

REDIS_TEST_URL = os.environ.get("BOKACHECKOUT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_is_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def redis_cache_settings(key_prefix: str) -> dict:
    """CACHES as ``REDIS_URL`` makes them, on the test Redis, under ``key_prefix``."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": key_prefix,
        }
    }


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis, as REDIS_URL would configure it; yields its settings."""
    if not redis_is_reachable():
        pytest.skip(f"needs Redis at {REDIS_TEST_URL}")
    key_prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = redis_cache_settings(key_prefix)
    yield settings.CACHES
    client = redis.Redis.from_url(REDIS_TEST_URL)
    for key in client.scan_iter(match=f"{key_prefix}:*"):
        client.delete(key)
