"""Pytest fixtures for the Stripe emulator.

* `emulator_server` (session): one `StripeEmulator` on a free port, served from a
  background thread for the whole run and stopped at the end.
* `stripe_emulator` (function): the same emulator with all state reset
  (sessions, recorded requests, faults, idempotency keys, latency, frozen
  time), and Django settings pointing at it: `STRIPE_API_BASE = emulator.url`,
  `STRIPE_SECRET_KEY = "sk_test_emulator"`. Yields the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checkouts.emulator import StripeEmulator

EMULATOR_SECRET_KEY = "sk_test_emulator"


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[StripeEmulator]:
    emulator = StripeEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def stripe_emulator(emulator_server: StripeEmulator, settings) -> Iterator[StripeEmulator]:
    emulator_server.reset()
    settings.STRIPE_API_BASE = emulator_server.url
    settings.STRIPE_SECRET_KEY = EMULATOR_SECRET_KEY
    yield emulator_server
    # Release requests a fault may still hold, so nothing leaks into the next test.
    emulator_server.reset()
