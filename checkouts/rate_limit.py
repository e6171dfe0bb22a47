"""Stripe calls per connected account, limited across every process that shares the cache.

Time is cut into slots of ``1 / per_second`` seconds, counted from the epoch, so
every host numbers them alike. A call to an account goes out only in a slot it
holds, and a slot is held by whoever first adds its key to the default cache:
``cache.add`` is atomic (Redis's ``SET NX``; LocMemCache's lock). So an account
gets at most one call per slot, whichever process or host asks: for a whole-number
rate, at most ``per_second`` calls in each second of the clock, and at most one more
in any second-long window. With ``REDIS_URL`` every host shares the slots; without
it each process has its own, and two processes together may double the rate.

Hosts' clocks must agree (NTP) to well within a slot: a host whose clock runs
ahead takes its slots early.
"""

import math
import threading
import time
from collections.abc import Callable

from django.core.cache import cache

# Tried again this soon at the earliest, so that rounding at a slot's edge never spins.
SHORTEST_WAIT = 0.001


class AccountRateLimiter:
    """At most ``per_second`` calls per connected account, shared through the default cache.

    ``try_acquire`` never blocks, so one caller can serve many accounts and go on
    with another while one waits; ``wait`` blocks until the call may go. Safe to
    share between threads. ``clock`` (wall-clock seconds) and ``sleep`` are
    injectable for tests.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_second = per_second
        self.clock = clock
        self.sleep = sleep
        # A slot's key outlives the slot by more than any clock skew worth having.
        self._key_lifetime = math.ceil(2 / per_second) + 1
        # The next slot this limiter may take per account: those before it are taken.
        self._next_slot: dict[str, int] = {}
        self._lock = threading.Lock()

    def try_acquire(self, account: str) -> float:
        """Take the current slot of ``account``: 0.0 if taken, so the call may go now;
        otherwise the seconds until its next slot, when it is worth asking again."""
        now = self.clock()
        current = math.floor(now * self.per_second)
        with self._lock:
            slot = max(current, self._next_slot.get(account, current))
        if slot > current:
            return self._until(slot, now)
        taken = cache.add(f"stripe-calls:{account}:{slot}", 1, self._key_lifetime)
        with self._lock:
            self._next_slot[account] = max(self._next_slot.get(account, 0), slot + 1)
        return 0.0 if taken else self._until(slot + 1, now)

    def wait(self, account: str) -> None:
        """Block until a call to ``account`` may go, and take its slot."""
        while (delay := self.try_acquire(account)) > 0:
            self.sleep(delay)

    def _until(self, slot: int, now: float) -> float:
        return max(slot / self.per_second - now, SHORTEST_WAIT)
