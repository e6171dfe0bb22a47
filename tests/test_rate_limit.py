"""The per-account Stripe rate limit, counted in the cache so that every process shares it."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from itertools import pairwise

import pytest

from checkouts.rate_limit import AccountRateLimiter
from tests.support.clock import START, FakeClock, forget_rate_limit_slots


@pytest.fixture
def local_cache():
    forget_rate_limit_slots()


def calls_through(limiters: list[AccountRateLimiter], clock: FakeClock, *, seconds: int) -> list:
    """Every limiter asks for ``acct_shared`` each millisecond; the times calls were let go."""
    let_go = []
    for tick in range(seconds * 1000):
        clock.now = Fraction(START) + Fraction(tick, 1000)
        for limiter in limiters:
            if limiter.try_acquire("acct_shared") == 0:
                let_go.append(clock.now)
    return let_go


def test_calls_to_one_account_are_spaced_and_other_accounts_are_not_held_up(local_cache):
    clock = FakeClock()
    limiter = AccountRateLimiter(4, clock=clock, sleep=clock.sleep)
    let_go = []

    for account in ["acct_a", "acct_a", "acct_b", "acct_a"]:
        limiter.wait(account)
        let_go.append((account, clock.now - START))

    assert let_go == [
        ("acct_a", 0),
        ("acct_a", Fraction(1, 4)),
        ("acct_b", Fraction(1, 4)),
        ("acct_a", Fraction(1, 2)),
    ]


def test_a_busy_account_says_how_long_until_its_next_slot_without_waiting(local_cache):
    clock = FakeClock()
    limiter = AccountRateLimiter(4, clock=clock, sleep=clock.sleep)
    assert limiter.try_acquire("acct_a") == 0
    clock.now += Fraction(1, 10)

    assert limiter.try_acquire("acct_a") == pytest.approx(0.15)
    assert limiter.try_acquire("acct_b") == 0


def test_in_one_process_two_limiters_share_each_accounts_slots(local_cache):
    clock = FakeClock()
    limiters = [AccountRateLimiter(5, clock=clock), AccountRateLimiter(5, clock=clock)]

    let_go = calls_through(limiters, clock, seconds=3)

    assert Counter(int(moment) - START for moment in let_go) == {0: 5, 1: 5, 2: 5}


@pytest.mark.redis
def test_limiters_sharing_redis_never_exceed_the_rate_of_an_account_and_use_all_of_it(
    redis_cache,
):
    # Each limiter keeps its own local state, as two hosts would: only Redis is shared.
    clock = FakeClock()
    hosts = [AccountRateLimiter(5, clock=clock), AccountRateLimiter(5, clock=clock)]

    let_go = calls_through(hosts, clock, seconds=3)

    assert Counter(int(moment) - START for moment in let_go) == {0: 5, 1: 5, 2: 5}
    assert all(later - earlier >= Fraction(1, 5) for earlier, later in pairwise(let_go))


@pytest.mark.redis
def test_of_many_hosts_asking_at_the_same_moment_exactly_one_gets_the_slot(redis_cache):
    hosts = [AccountRateLimiter(1, clock=lambda: float(START)) for _ in range(16)]
    at_once = threading.Barrier(len(hosts))

    def ask(limiter: AccountRateLimiter) -> bool:
        at_once.wait()
        return limiter.try_acquire("acct_raced") == 0

    with ThreadPoolExecutor(len(hosts)) as pool:
        granted = list(pool.map(ask, hosts))

    assert granted.count(True) == 1
