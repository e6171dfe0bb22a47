"""Pytest fixtures for the Stripe emulator.

* `emulator_server` (session): one `StripeEmulator` on a free port, served from a
  background thread for the whole run and stopped at the end.
* `stripe_emulator` (function): the same emulator with all state reset
  (sessions, payments and refunds, events, webhook endpoints and deliveries,
  recorded requests, faults and their held requests, idempotency keys,
  latency, frozen time), and Django settings
  pointing at it: `STRIPE_API_BASE = emulator.url`,
  `STRIPE_SECRET_KEY = "sk_test_emulator"`. Yields the emulator.
* `webhook_receiver` (function): a `WebhookReceiver`, a local HTTP endpoint
  standing in for an app's webhook URL: it records every request and answers
  the statuses given to `respond_with(...)` in turn, then 200. Use it with
  `stripe_emulator.configure_webhook(webhook_receiver.url, WEBHOOK_SECRET)`
  and `stripe_emulator.drain_webhooks()`. For a second endpoint, `with
  WebhookReceiver() as receiver:` runs one more for the block.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from stripe_emulator import StripeEmulator

EMULATOR_SECRET_KEY = "sk_test_emulator"
WEBHOOK_SECRET = "whsec_emulator_test_secret"


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


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A local HTTP server that records requests and answers scripted statuses.

    Guarantees: `received` lists requests in arrival order; `wait_for(count)`
    blocks on a condition (no polling) until that many have arrived.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._received: list[ReceivedRequest] = []
        self._statuses: list[int] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhooks/stripe"

    @property
    def received(self) -> list[ReceivedRequest]:
        with self._changed:
            return list(self._received)

    def respond_with(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order; 200 after that."""
        with self._changed:
            self._statuses.extend(statuses)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._received) >= count, timeout):
                raise TimeoutError(f"fewer than {count} webhook requests within {timeout} s")
            return list(self._received)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _take(self, request: ReceivedRequest) -> int:
        with self._changed:
            self._received.append(request)
            self._changed.notify_all()
            return self._statuses.pop(0) if self._statuses else 200


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver._take(
                ReceivedRequest(self.command, self.path, dict(self.headers.items()), body)
            )
            payload = b'{"received": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver
