"""The background checker that lets sessions expire by themselves at `expires_at`.

`ExpiryChecker` calls `tick()` (which expires what is due by the emulator's
clock and says how long until the next session is due) from a daemon thread,
at the latest every `max_wait` seconds and at once when `wake()` is called
(the emulator wakes it when its clock is set). Guarantee: with a running
clock, a session is expired within `max_wait` seconds of its `expires_at`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

DEFAULT_MAX_WAIT = 1.0


class ExpiryChecker:
    def __init__(
        self, tick: Callable[[], float | None], *, max_wait: float = DEFAULT_MAX_WAIT
    ) -> None:
        """`tick()` expires due sessions and returns the seconds until the next is due
        (None: nothing is, or the clock is frozen)."""
        self._tick = tick
        self._max_wait = max_wait
        self._changed = threading.Condition()
        self._woken = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._changed:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(
                target=self._run, name="stripe-emulator-expiry", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        """Check again now (e.g. because the clock jumped)."""
        with self._changed:
            self._woken = True
            self._changed.notify_all()

    def stop(self) -> None:
        """Stop the thread and wait for it; safe to call twice, or without `start()`."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        while True:
            try:
                due_in = self._tick()
            except Exception:
                # A failing check must not end expiry for the rest of the run.
                logger.exception("stripe emulator: expiring due sessions failed")
                due_in = None
            wait = self._max_wait if due_in is None else max(0.0, min(due_in, self._max_wait))
            with self._changed:
                self._changed.wait_for(lambda: self._woken or self._stopped, wait)
                if self._stopped:
                    return
                self._woken = False
