"""A sliding-window log of request times per key, in Django's default cache, kept atomically.

``admit`` lets at most ``limit`` requests through in any ``duration`` seconds for one key:
the rule of DRF's ``SimpleRateThrottle``, whose log is read from the cache, trimmed,
appended to and written back. Two workers doing that at once both read the same log and
both admit, so with N worker processes a key gets up to N times its rate (DRF's docs say
so: "A note on concurrency"). Here the read, trim and append are one step:

- On Redis (``REDIS_URL``, Django's ``RedisCache``): one Lua script does them on the
  server, by the server's clock. Every worker and host shares one exact count, with no
  clock skew between hosts, in one round trip.
- On any other cache (local memory, the default): the same steps under a process-wide
  lock. That is exact within the process, which is all that local memory is shared by.

If Redis cannot be reached, requests are admitted (and an error logged): a throttle
protects the service, and an outage of its counts should not stop payments.
"""

import logging
import threading
import time
from dataclasses import dataclass

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from redis import RedisError

logger = logging.getLogger(__name__)

# KEYS[1]: one key's log, request times newest first. ARGV: limit, duration (seconds).
# Returns {1, ""} when admitted, else {0, seconds until the oldest request leaves the
# window} as a string (Redis turns a Lua number into an integer).
ADMIT_SCRIPT = """
local limit = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local oldest = redis.call('LINDEX', KEYS[1], -1)
while oldest and tonumber(oldest) <= now - duration do
    redis.call('RPOP', KEYS[1])
    oldest = redis.call('LINDEX', KEYS[1], -1)
end
if redis.call('LLEN', KEYS[1]) < limit then
    redis.call('LPUSH', KEYS[1], string.format('%.6f', now))
    redis.call('EXPIRE', KEYS[1], duration)
    return {1, ''}
end
if not oldest then
    return {0, tostring(duration)}
end
return {0, string.format('%.6f', tonumber(oldest) + duration - now)}
"""

# Guards the read-trim-append of logs in a cache that only this process sees.
_local_log_lock = threading.Lock()


@dataclass(frozen=True)
class Decision:
    """Whether a request was admitted; if not, the seconds until one more would be."""

    admitted: bool
    retry_after: float | None = None


def admit(key: str, *, limit: int, duration: int) -> Decision:
    """Admit one request for ``key`` if fewer than ``limit`` were admitted in the last
    ``duration`` seconds, and log it; a refused request is not logged."""
    cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        return _admit_on_redis(cache, key, limit, duration)
    return _admit_in_process(cache, key, limit, duration)


def _admit_on_redis(cache: RedisCache, key: str, limit: int, duration: int) -> Decision:
    full_key = cache.make_and_validate_key(key)
    # Django's cache API has no atomic read-modify-write of a list, so the script runs on
    # the cache's own connection pool (its KEY_PREFIX applied above).
    client = cache._cache.get_client(full_key, write=True)
    try:
        admitted, retry_after = client.register_script(ADMIT_SCRIPT)(
            keys=[full_key], args=[limit, duration]
        )
    except RedisError as error:
        logger.error("Redis cannot count requests (%s); %s is admitted uncounted.", error, key)
        return Decision(True)
    return Decision(True) if admitted else Decision(False, float(retry_after))


def _admit_in_process(cache, key: str, limit: int, duration: int) -> Decision:
    with _local_log_lock:
        now = time.time()
        log = [moment for moment in cache.get(key, []) if moment > now - duration]
        if len(log) >= limit:
            return Decision(False, log[-1] + duration - now if log else float(duration))
        cache.set(key, [now, *log], duration)
        return Decision(True)
