"""A wall clock that moves only when told to, for the rate limiter and what it paces."""

from fractions import Fraction

from django.conf import settings
from django.core.cache import cache

START = 1_900_000_000  # a whole second of the wall clock


class FakeClock:
    """Seconds since the epoch, exact (no float drift); ``sleep`` moves it on at once."""

    def __init__(self, start: int = START) -> None:
        self.now = Fraction(start)

    def __call__(self) -> float:
        return float(self.now)

    def sleep(self, seconds: float) -> None:
        self.now += Fraction(seconds).limit_denominator(1_000_000)


def forget_rate_limit_slots() -> None:
    """Empty the default cache in local memory (never a shared one) of earlier tests' slots."""
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    cache.clear()
