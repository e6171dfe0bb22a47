"""Throttles count exactly, across processes on Redis and across threads in local memory,
and requests without a valid API key are throttled per client address."""

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone
from django.utils.module_loading import import_string
from rest_framework.request import Request
from rest_framework.test import APIClient

from checkouts.api.throttling import ApiKeyRateThrottle, FailedKeyAttemptThrottle
from checkouts.models import CompanyApiKey
from tests.support.api import CHECKOUT_URL, checkout_body
from tests.support.factories import make_api_key
from tests.support.processes import call_in_processes
from tests.support.redis import REDIS_TEST_URL
from tests.support.servers import free_port

# Workers at once try twice the rate, each alone less than it: every one of them takes part.
RATE_LIMIT = 150
# Per hour, so that no counted request leaves the window while a test runs.
RATE = f"{RATE_LIMIT}/hour"
WORKERS = 3
ATTEMPTS = 100
CLIENT = "203.0.113.7"
OTHER_CLIENT = "198.51.100.20"


def set_rates(settings, **rates: str) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def drf_request(remote_addr: str = CLIENT, key_prefix: str | None = None, **meta) -> Request:
    request = Request(RequestFactory().post("/", REMOTE_ADDR=remote_addr, **meta))
    request.auth = CompanyApiKey(prefix=key_prefix) if key_prefix else None
    return request


def admitted_of(throttle_class, request_fields: dict, attempts: int = ATTEMPTS) -> int:
    """How many of ``attempts`` requests, one after another, ``throttle_class`` admits."""
    request = drf_request(**request_fields)
    return sum(throttle_class().allow_request(request, None) for _ in range(attempts))


def admitted_in_a_process(throttle_path: str, request_fields: dict) -> int:
    """``admitted_of`` in a process of ``call_in_processes``, which passes only names."""
    return admitted_of(import_string(throttle_path), request_fields)


# --- Exact across processes (Redis) ----------------------------------------------------

THROTTLES = {
    "per API key": (ApiKeyRateThrottle, {"key_prefix": "SharedKy"}),
    "failed keys per address": (FailedKeyAttemptThrottle, {"remote_addr": CLIENT}),
}


@pytest.mark.redis
@pytest.mark.parametrize(("throttle_class", "request_fields"), THROTTLES.values(), ids=THROTTLES)
def test_three_processes_at_once_admit_exactly_the_rate_together(
    redis_cache, settings, throttle_class, request_fields
):
    set_rates(settings, api_key=RATE, failed_key=RATE)

    admitted = call_in_processes(
        WORKERS,
        f"{__name__}.admitted_in_a_process",
        f"{throttle_class.__module__}.{throttle_class.__name__}",
        request_fields,
        settings_overrides={"CACHES": settings.CACHES, "REST_FRAMEWORK": settings.REST_FRAMEWORK},
    )

    assert sum(admitted) == RATE_LIMIT
    assert len(admitted) == WORKERS


@pytest.mark.redis
def test_a_refused_request_on_redis_is_told_when_the_oldest_counted_one_leaves_the_window(
    redis_cache, settings
):
    set_rates(settings, api_key="2/min")
    request = drf_request(key_prefix="WaitKey1")
    throttles = [ApiKeyRateThrottle() for _ in range(3)]

    outcomes = [throttle.allow_request(request, None) for throttle in throttles]

    assert outcomes == [True, True, False]
    assert 0 < throttles[2].wait() <= 60


@pytest.mark.redis
def test_a_keys_log_on_redis_expires_with_its_period(redis_cache, settings):
    set_rates(settings, api_key="5/min")
    ApiKeyRateThrottle().allow_request(drf_request(key_prefix="TtlKey01"), None)

    client = redis.Redis.from_url(REDIS_TEST_URL)
    prefix = redis_cache["default"]["KEY_PREFIX"]
    [log_key] = client.scan_iter(match=f"{prefix}:*")
    assert 0 < client.ttl(log_key) <= 60


@pytest.mark.redis
@pytest.mark.django_db
def test_a_throttled_request_on_redis_gets_the_servicestack_429_with_retry_after(
    redis_cache, settings, company, api_key, stripe_emulator
):
    set_rates(settings, api_key="1/hour")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    first = client.post(CHECKOUT_URL, checkout_body(company), format="json")

    second = client.post(CHECKOUT_URL, checkout_body(company), format="json")

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["ResponseStatus"]["ErrorCode"] == "TooManyRequests"
    assert 0 < int(second["Retry-After"]) <= 3600


# --- Exact across threads (local memory, one process) ----------------------------------


@pytest.fixture
def frequent_thread_switches():
    """Switch threads every microsecond, so that a read-modify-write left unguarded is
    interleaved with another thread's, as it would be under load."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def admitted_by_threads_at_once(throttle_class, request_fields: dict) -> int:
    """What ``WORKERS`` threads, each making ``ATTEMPTS`` requests at once, get admitted."""
    cache.clear()
    barrier = threading.Barrier(WORKERS)

    def one_thread(_):
        barrier.wait(timeout=10)
        return admitted_of(throttle_class, request_fields)

    with ThreadPoolExecutor(WORKERS) as pool:
        return sum(pool.map(one_thread, range(WORKERS)))


@pytest.mark.parametrize(("throttle_class", "request_fields"), THROTTLES.values(), ids=THROTTLES)
def test_threads_of_one_process_at_once_admit_exactly_the_rate_in_local_memory(
    settings, frequent_thread_switches, throttle_class, request_fields
):
    set_rates(settings, api_key=RATE, failed_key=RATE)

    # Threads interleave less surely than processes: the race is run a number of times.
    admitted = [admitted_by_threads_at_once(throttle_class, request_fields) for _ in range(20)]

    assert admitted == [RATE_LIMIT] * 20


# --- Failed key attempts, per client address ---------------------------------------------


@pytest.fixture
def three_failed_attempts_a_minute(settings):
    set_rates(settings, api_key="1000/min", failed_key="3/min")


def post(company, key: str | None, **meta):
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_X_API_KEY=key)
    return client.post(CHECKOUT_URL, checkout_body(company), format="json", **meta)


@pytest.mark.django_db
def test_the_fourth_bad_key_from_one_address_gets_a_servicestack_429_with_retry_after(
    company, three_failed_attempts_a_minute
):
    statuses = [post(company, "abcdefgh.wrong", REMOTE_ADDR=CLIENT).status_code for _ in range(3)]

    refused = post(company, "abcdefgh.wrong", REMOTE_ADDR=CLIENT)

    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.json()["ResponseStatus"]["ErrorCode"] == "TooManyRequests"
    assert refused.json()["ResponseStatus"]["Message"].startswith(
        "Too many requests without a valid X-Api-Key from this address."
    )
    assert 0 < int(refused["Retry-After"]) <= 60


@pytest.mark.django_db
def test_missing_malformed_unknown_revoked_and_expired_keys_all_count_as_failed_attempts(
    company, settings
):
    set_rates(settings, failed_key="5/min")
    revoked_key = make_api_key(company)
    CompanyApiKey.objects.update(revoked=True)
    _, expired_key = CompanyApiKey.objects.create_key(
        company=company, name="expired", expiry_date=timezone.now() - timedelta(minutes=1)
    )

    statuses = [
        post(company, key, REMOTE_ADDR=CLIENT).status_code
        for key in (None, "not\x7fprintable", "abcdefgh.wrong", revoked_key, expired_key, None)
    ]

    assert statuses == [401, 401, 401, 401, 401, 429]


@pytest.mark.django_db
def test_another_address_is_not_refused_for_ones_failed_attempts(
    company, three_failed_attempts_a_minute
):
    for _ in range(4):
        post(company, None, REMOTE_ADDR=CLIENT)

    assert post(company, None, REMOTE_ADDR=OTHER_CLIENT).status_code == 401


@pytest.mark.django_db
def test_a_valid_key_from_an_address_refused_for_failed_attempts_still_gets_through(
    company, api_key, stripe_emulator, three_failed_attempts_a_minute
):
    for _ in range(4):
        post(company, None, REMOTE_ADDR=CLIENT)

    assert post(company, api_key, REMOTE_ADDR=CLIENT).status_code == 200


@pytest.mark.django_db
def test_requests_with_a_valid_key_use_up_none_of_the_failed_attempts(
    company, api_key, stripe_emulator, three_failed_attempts_a_minute
):
    valid = [post(company, api_key, REMOTE_ADDR=CLIENT).status_code for _ in range(5)]

    failed = [post(company, None, REMOTE_ADDR=CLIENT).status_code for _ in range(3)]

    assert valid == [200] * 5
    assert failed == [401, 401, 401]


@pytest.mark.django_db
def test_a_forged_x_forwarded_for_does_not_escape_the_count_without_trusted_proxies(
    company, three_failed_attempts_a_minute
):
    statuses = [
        post(company, None, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(4)
    ]

    assert statuses == [401, 401, 401, 429]


@pytest.mark.django_db
def test_behind_one_trusted_proxy_clients_are_told_apart_by_the_address_it_appends(
    company, settings, three_failed_attempts_a_minute
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.2"

    def through_proxy(client: str, forged: str = "192.0.2.1") -> int:
        forwarded = f"{forged}, {client}"
        return post(company, None, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded).status_code

    first = [through_proxy(CLIENT, forged=f"192.0.2.{n}") for n in range(4)]
    other = through_proxy(OTHER_CLIENT)

    assert first == [401, 401, 401, 429]
    assert other == 401


@pytest.mark.django_db
def test_ipv6_clients_are_counted_per_64_network(company, three_failed_attempts_a_minute):
    statuses = [
        post(company, None, REMOTE_ADDR=f"2001:db8:1:2::{n:x}").status_code for n in range(1, 5)
    ]
    elsewhere = post(company, None, REMOTE_ADDR="2001:db8:1:3::1").status_code

    assert statuses == [401, 401, 401, 429]
    assert elsewhere == 401


@pytest.mark.django_db
def test_ipv4_clients_seen_through_a_dual_stack_socket_are_counted_each_on_their_own(
    company, three_failed_attempts_a_minute
):
    statuses = [post(company, None, REMOTE_ADDR=f"::ffff:{CLIENT}").status_code for _ in range(4)]
    other = post(company, None, REMOTE_ADDR=f"::ffff:{OTHER_CLIENT}").status_code

    assert statuses == [401, 401, 401, 429]
    assert other == 401


@pytest.mark.django_db
def test_when_redis_cannot_be_reached_requests_are_admitted_and_the_outage_logged(
    company, api_key, stripe_emulator, settings, caplog
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    set_rates(settings, api_key="1/hour", failed_key="1/hour")

    statuses = [post(company, api_key).status_code for _ in range(2)]
    failed = [post(company, None).status_code for _ in range(2)]

    assert statuses == [200, 200]
    assert failed == [401, 401]
    assert "Redis cannot count requests" in caplog.text
