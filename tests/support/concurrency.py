"""Running code on other database connections at once, and waiting on what they do.

Races are lined up with the emulator's hold gates and held row locks, never with sleeps;
``wait_until`` polls only database conditions that nothing announces.
"""

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection

GATE_TIMEOUT = 10


def in_a_thread(pool: ThreadPoolExecutor, function, *args, **kwargs) -> Future:
    """Run ``function`` in ``pool`` on its own database connection."""

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    return pool.submit(run)


def backends_waiting_on_a_lock() -> int:
    """PostgreSQL backends of this database waiting for a lock now."""
    with connection.cursor() as cursor:
        # Statistics are a snapshot per transaction; the caller is inside one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_until(condition, what: str) -> None:
    """Poll a database condition that no event announces; fail after GATE_TIMEOUT seconds."""
    waited = threading.Event()
    for _ in range(GATE_TIMEOUT * 100):
        if condition():
            return
        waited.wait(0.01)
    raise TimeoutError(what)
