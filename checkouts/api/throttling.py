"""The API's throttles, counted so that every worker and host enforce a rate together, exactly.

DRF's ``SimpleRateThrottle`` reads a key's log of request times from the cache, decides,
and writes it back; concurrent workers read the same log and over-admit, so each of N
workers could let a key through at the full rate (DRF documents the race and leaves an
exact throttle to the project). djangorestframework-api-key ships no throttle of its own.
django-ratelimit counts exactly with ``cache.add`` and ``cache.incr``, but in fixed
windows: a client can spend a window's allowance at its end and the next one's at the
start, twice the rate in a moment, and each request costs three round trips to Redis
(Django's ``incr`` checks that the key exists first).

So these keep DRF's rule, at most N requests in any trailing period, with the same
``Retry-After`` (when the oldest counted request leaves the period), and make its step
atomic (``checkouts.api.sliding_window``): one Lua script on Redis, a lock in local memory.
They remain DRF throttles (``allow_request``/``wait``, ``DEFAULT_THROTTLE_RATES``), so DRF
raises ``Throttled`` and the error handler answers ServiceStack's 429.
"""

import hashlib
import ipaddress

from rest_framework.exceptions import APIException, Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from checkouts.api import sliding_window
from checkouts.models import CompanyApiKey

# Clients on IPv6 are counted per /64: one subscriber is usually given a whole /64.
IPV6_CLIENT_PREFIX = 64


class SharedRateThrottle(SimpleRateThrottle):
    """Admits at most the rate of ``DEFAULT_THROTTLE_RATES[scope]`` per key in any trailing
    period, counted atomically in the default cache. No rate set: no limit."""

    def get_rate(self) -> str | None:
        # Read per request rather than at import, so a settings change takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.decision = sliding_window.admit(
            self.key, limit=self.num_requests, duration=self.duration
        )
        return self.decision.admitted

    def wait(self) -> float | None:
        return self.decision.retry_after


class ApiKeyRateThrottle(SharedRateThrottle):
    """Limits each API key to the ``api_key`` rate (env ``API_THROTTLE_RATE``). Requests
    without a valid key never get this far: ``FailedKeyAttemptThrottle`` counts those."""

    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, CompanyApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class FailedKeyAttemptThrottle(SharedRateThrottle):
    """Limits requests with a missing, unknown, revoked or expired API key to the
    ``failed_key`` rate (env ``API_FAILED_KEY_RATE``) per client address.

    The address is ``REMOTE_ADDR``, or the entry that the trusted proxies in front (env
    ``API_NUM_PROXIES``, DRF's ``NUM_PROXIES``) added to ``X-Forwarded-For``: any other is
    the client's to forge. Requests with a valid key are neither counted nor refused.
    """

    scope = "failed_key"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {
            "scope": self.scope,
            "ident": client_network(self.get_ident(request)),
        }


def client_network(address: str | None) -> str:
    """An IPv4 address as it is (also when mapped into IPv6), an IPv6 one as its /64;
    anything else hashed, so that no header text ends up in a cache key."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown-" + hashlib.sha256((address or "").encode()).hexdigest()[:32]
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def refusal_of_failed_key(request, error: APIException) -> APIException:
    """What a request without a valid key is answered: ``error`` (a 401), or ``Throttled``
    (a 429 with ``Retry-After``) once its address has used up its failed attempts."""
    throttle = FailedKeyAttemptThrottle()
    if throttle.allow_request(request, None):
        return error
    return Throttled(
        throttle.wait(), detail="Too many requests without a valid X-Api-Key from this address."
    )
