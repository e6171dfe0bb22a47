"""The HTTP side of the emulator: `StripeEmulator`, its server thread and the transport.

The transport first lets due sessions expire, then hands each request to
`control.handle` (the `/_emulator/` control API), `pages.handle` (the
customer's pages and the Stripe.js stand-in), or, for the API, decodes it,
records it, applies faults and latency and calls `api.handle` (Stripe
semantics).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import api, control, errors, lifecycle, objects, pages
from .endpoints import DeliverySettings
from .expiry import ExpiryChecker
from .faults import Fault, FaultKind, FaultPlan
from .forms import FormError, FormValue, decode_pairs
from .lifecycle import PaymentStatus
from .payment_controls import PaymentControls
from .state_file import StateFile
from .store import RecordedRequest, Store, StoredSession
from .webhooks import (
    DEFAULT_RETRY_DELAYS,
    DEFAULT_TIMEOUT,
    DeliveryRecord,
    WebhookDispatcher,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class StripeEmulator(PaymentControls):
    """A Stripe API stand-in over real HTTP, for the official SDK to talk to.

    Guarantees: state (sessions, events, recorded requests, idempotency cache,
    faults) is thread-safe; `start()` returns only once the server accepts
    requests; `stop()` returns promptly even while requests are held by
    `timeout` or `latency` faults or a fault's hold gate (they are answered by
    closing the connection, without running), and is safe to call twice;
    `reset()` likewise releases held requests, so a held request never runs
    against a later test's state.

    Sessions expire by themselves once the emulator's clock passes
    `expires_at`: a background checker does it while serving, and every
    request, `set_time()` and `complete_session()` first expires what is due,
    so nothing is ever seen open past its `expires_at`. Every session state
    change emits its event (see `lifecycle`), delivered from a background
    thread to the webhook set with `configure_webhook()` and to the endpoints
    created through `/v1/webhook_endpoints` (see `endpoints`, `webhooks`).

    Paying a session creates its PaymentIntent and Charge (see `payments`);
    refunds, and what Stripe does to them later, are driven through
    `PaymentControls`' methods.

    With a `state_file`, the emulator starts from the state saved there (if
    the file exists; `state_file.StateFileError` if it is not one) and saves
    its state there before answering each HTTP request, after sessions expire
    by themselves, and on `stop()`: sessions, payments, refunds, events, the
    endpoints created through the API and idempotency keys, so a restarted
    emulator answers for the objects it handed out before.

    Public attributes: `store` (state; `store.lock` serialises API requests),
    `faults` (pending faults), `latency` (seconds added to every API request),
    `api_key_prefix` (secret keys must start with it), `webhooks` (the
    delivery queue).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key_prefix: str = "sk_test_",
        state_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.api_key_prefix = api_key_prefix
        self.store = Store()
        self._state_file = None if state_file is None else StateFile(state_file)
        if self._state_file is not None:
            self._state_file.load_into(self.store)
        self.faults = FaultPlan()
        self.latency = 0.0
        self._frozen_at: float | None = None
        self.webhooks = WebhookDispatcher(self.store.webhook_endpoints)
        self.store.events.sink = self.webhooks
        self._expiry = ExpiryChecker(self._expiry_tick)
        self._release_lock = threading.Lock()
        self._release = threading.Event()
        self._serving = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._httpd = _Server((host, port), _RequestHandler)
        self._httpd.emulator = self

    # --- lifecycle ------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    def start(self) -> StripeEmulator:
        """Serve in a background thread; return once requests are being accepted."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, name="stripe-emulator", daemon=True
            )
            self._thread.start()
            self._serving.wait()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until `stop()` (from another thread) or KeyboardInterrupt."""
        self._expiry.start()
        self._serving.set()
        try:
            self._httpd.serve_forever(poll_interval=0.1)
        finally:
            self._serving.clear()

    def stop(self) -> None:
        """Stop serving, expiring and delivering (undelivered events are dropped)."""
        self._release_held()
        if self._closed:
            return
        self._closed = True
        self._expiry.stop()
        self.webhooks.close()
        if self._serving.is_set():
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self.save_state()

    def __enter__(self) -> StripeEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget sessions, payments, refunds, events, recorded requests, idempotency keys,
        faults, latency, frozen time, webhook endpoints and their deliveries (undelivered
        events are dropped)."""
        self.faults.clear()
        self._release_held()
        self.webhooks.reset()
        self.store.reset()
        self.latency = 0.0
        self._frozen_at = None

    def save_state(self) -> None:
        """Write the state to the `state_file` now (nothing without one)."""
        if self._state_file is None:
            return
        try:
            self._state_file.save(self.store)
        except OSError:
            logger.exception("stripe emulator: could not save to %s", self._state_file.path)

    def _release_held(self) -> None:
        with self._release_lock:
            held, self._release = self._release, threading.Event()
        held.set()
        self.faults.abandon_gates()

    # --- time -----------------------------------------------------------------

    def now(self) -> float:
        """The emulator's clock (epoch seconds): real time unless frozen with `set_time`."""
        return time.time() if self._frozen_at is None else self._frozen_at

    def set_time(self, epoch: float | None) -> None:
        """Freeze the clock at `epoch` (None: back to real time).

        Sessions due by the new time expire (and emit their events) before this returns.
        """
        self._frozen_at = epoch
        self.expire_due_sessions()
        self._expiry.wake()

    def expire_due_sessions(self) -> list[str]:
        """Expire every open session whose `expires_at` has come by `now()`; their ids."""
        return lifecycle.expire_due(self.store, self.now())

    def _expiry_tick(self) -> float | None:
        if self.expire_due_sessions():
            self.save_state()
        if self._frozen_at is not None:
            return None
        due = lifecycle.next_expiry(self.store)
        return None if due is None else due - self.now()

    # --- inspection -----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Copies of every API request received since the last reset, oldest first."""
        return self.store.recorded()

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least `count` requests are recorded (TimeoutError after `timeout`)."""
        if not self.store.wait_for_recorded(count, timeout):
            raise TimeoutError(f"fewer than {count} requests arrived within {timeout} s")
        return self.requests

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        """Recorded requests with this method whose path fully matches `path_regex`."""
        pattern = re.compile(path_regex)
        return [
            r
            for r in self.requests
            if r.method == method.upper() and pattern.fullmatch(r.path) is not None
        ]

    def session(self, session_id: str) -> dict[str, Any]:
        """A copy of a stored checkout.session, whichever account owns it (KeyError if none)."""
        return self.store.session_snapshot(session_id).session

    def sessions_on(self, account: str | None) -> list[dict[str, Any]]:
        """Copies of the sessions created on `account` (None: the platform), oldest first."""
        return [s.session for s in self.store.all_sessions() if s.account == account]

    def complete_session(
        self,
        session_id: str,
        payment_status: PaymentStatus = "paid",
        customer_email: str | None = None,
        customer_name: str | None = None,
    ) -> dict[str, Any]:
        """The customer pays an open session; returns a copy of the completed session.

        Sets status `complete`, `payment_status` ("unpaid" models a delayed
        payment method, settled later with `settle_async_payment`), a
        `payment_intent` (in `payment` mode, with its charge: see `payments`),
        a new `customer`, `customer_details`, clears `url`, and emits
        `checkout.session.completed`. KeyError if unknown;
        `lifecycle.SessionStateError` (a ValueError) if not open.
        """
        self.expire_due_sessions()
        with self.store.lock:
            lifecycle.complete(
                self.store,
                self._stored(session_id),
                now=int(self.now()),
                payment_status=payment_status,
                customer_email=customer_email,
                customer_name=customer_name,
            )
        return self.session(session_id)

    def settle_async_payment(self, session_id: str, succeeded: bool = True) -> dict[str, Any]:
        """The delayed payment of a session completed "unpaid" succeeds or fails, once.

        Success makes it `paid` (its intent and charge succeeded) and emits
        `checkout.session.async_payment_succeeded`; failure leaves it `unpaid` (the
        charge failed) and emits `checkout.session.async_payment_failed`.
        KeyError if unknown; `lifecycle.SessionStateError` if no payment is pending.
        """
        with self.store.lock:
            lifecycle.settle_async_payment(
                self.store, self._stored(session_id), now=int(self.now()), succeeded=succeeded
            )
        return self.session(session_id)

    def cancel_session(self, session_id: str) -> dict[str, Any]:
        """The customer clicks back on the payment page: only navigation, as on Stripe.

        The session stays as it is (open) and no event is emitted; returns a copy.
        KeyError if unknown.
        """
        return self.session(session_id)

    def _stored(self, session_id: str) -> StoredSession:
        stored = self.store.any_session(session_id)
        if stored is None:
            raise KeyError(session_id)
        return stored

    def line_items(self, session_id: str) -> list[dict[str, Any]]:
        """Copies of a session's line items (`item` objects), in request order."""
        return self.store.session_snapshot(session_id).line_items

    # --- events and webhooks ------------------------------------------------------

    @property
    def events(self) -> list[dict[str, Any]]:
        """Copies of every event emitted since the last reset, oldest first."""
        return self.store.events.all()

    def wait_for_event(
        self, event_type: str, session_id: str | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The first event of `event_type` (about `session_id`, if given: any object's id,
        a refund's too), waiting for it to be emitted if need be; TimeoutError after
        `timeout` seconds."""

        def matches(event: dict[str, Any]) -> bool:
            about = event["data"]["object"].get("id")
            return event["type"] == event_type and session_id in (None, about)

        event = self.store.events.wait_for(matches, timeout)
        if event is None:
            about = f" about {session_id}" if session_id else ""
            raise TimeoutError(f"no {event_type} event{about} within {timeout} s")
        return event

    def configure_webhook(
        self,
        url: str,
        secret: str,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        *,
        max_attempts: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> WebhookEndpoint:
        """Send every event emitted from now on to `url`, signed with `secret`.

        This one endpoint receives all events of all accounts (like `stripe
        listen`), besides the endpoints created through `/v1/webhook_endpoints`;
        configuring again replaces it. Failed deliveries (5xx, connection
        errors) are retried after `retry_delays` seconds, up to `max_attempts`
        attempts (default: one more than there are delays).
        """
        endpoint = WebhookEndpoint(
            url, secret, tuple(retry_delays), max_attempts=max_attempts, timeout=timeout
        )
        self.webhooks.configure(endpoint)
        return endpoint

    def remove_webhook(self) -> None:
        """Stop sending new events to the configured endpoint (queued ones are still delivered;
        endpoints created through the API keep receiving theirs)."""
        self.webhooks.configure(None)

    def webhook_endpoints(self) -> list[dict[str, Any]]:
        """Every endpoint created through `/v1/webhook_endpoints`, oldest first, as
        `{"account", "connect", "secret", "endpoint"}` (the secret the API shows only once)."""
        return [registered.to_dict() for registered in self.store.webhook_endpoints.registered()]

    def set_webhook_delivery(
        self,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        *,
        max_attempts: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """How events are delivered to endpoints created through the API (reset: defaults)."""
        self.store.webhook_endpoints.set_delivery(
            DeliverySettings(tuple(retry_delays), max_attempts, timeout)
        )

    @property
    def webhook_deliveries(self) -> list[DeliveryRecord]:
        """Every delivery attempt since the last reset, in the order made."""
        return self.webhooks.records

    def drain_webhooks(self, timeout: float = 10.0) -> list[DeliveryRecord]:
        """Block until every queued event is delivered or given up; every delivery record.

        TimeoutError if events are still undelivered after `timeout` seconds.
        """
        return self.webhooks.drain(timeout)

    # --- faults ---------------------------------------------------------------

    def inject_fault(
        self,
        kind: FaultKind,
        *,
        method: str | None = None,
        path: str = ".*",
        times: int | None = 1,
        status: int = 500,
        seconds: float | None = None,
        stripe_account: str | None = None,
        should_retry: bool | None = None,
        message: str | None = None,
        code: str | None = None,
        hold: bool = False,
        after_work: bool = False,
    ) -> Fault:
        """Make the next `times` requests matching method/path/account fail as `kind`.

        `after_work=True` (error, drop, timeout): run the request in full first,
        then answer the error / drop the connection / hold it `seconds` and drop.
        `hold=True`: matching requests wait inside the emulator until
        `fault.release()` (see `Fault.wait_until_held`), then go on as `kind`
        says (`"pass_through"`: normally). See `faults` for the details.
        """
        return self.faults.add(
            Fault(
                kind,
                method=method,
                path=path,
                stripe_account=stripe_account,
                times=times,
                status=status,
                seconds=seconds,
                should_retry=should_retry,
                message=message,
                code=code,
                hold=hold,
                after_work=after_work,
            )
        )

    def fault(self, fault_id: str) -> Fault:
        """A fault injected since the last reset, pending or used up (KeyError if unknown)."""
        return self.faults.get(fault_id)

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- transport --------------------------------------------------------------

    def _release_event(self) -> threading.Event:
        with self._release_lock:
            return self._release


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A burst of 64 clients connecting at once must queue, not be refused.
    request_queue_size = 128
    emulator: StripeEmulator


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "StripeEmulator/1.0"
    timeout = 60  # a client that connects and never sends must not pin a thread forever
    # Headers and body go out in two writes; without TCP_NODELAY a kept-alive
    # client would wait on a delayed ACK (about 40 ms) before seeing the body.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        received_at = emulator.now()
        url = urlsplit(self.path)
        path = unquote(url.path)
        body = self._read_body()
        emulator.expire_due_sessions()
        if path == "/_emulator" or path.startswith("/_emulator/"):
            self._send(control.handle(emulator, self.command, path, body))
        elif pages.is_page_path(path):
            page = pages.handle(emulator, self.command, path, url.query, body, self.headers)
            self._write(page.status, page.headers, page.body, page.content_type)
        else:
            self._serve_api(emulator, path, url.query, body, received_at)

    def _serve_api(
        self, emulator: StripeEmulator, path: str, query: str, body: bytes, received_at: float
    ) -> None:
        # Taken before the request is recorded, so a reset()/stop() that happens once a
        # test can see the request always releases its hold.
        release = emulator._release_event()
        params, decode_error = self._decode_params(query, body)
        request = api.ApiRequest(
            method=self.command,
            path=path,
            params=params,
            headers=self.headers,
            received_at=received_at,
            request_id=objects.new_request_id(),
            decode_error=decode_error,
        )
        record = RecordedRequest(
            request_id=request.request_id,
            method=self.command,
            path=path,
            params=params,
            stripe_account=self.headers.get("Stripe-Account"),
            idempotency_key=self.headers.get("Idempotency-Key"),
            stripe_version=self.headers.get("Stripe-Version"),
            received_at=received_at,
        )
        emulator.store.record(record)
        fault = emulator.faults.take(self.command, path, record.stripe_account)
        if fault is not None:
            emulator.store.update_record(record, fault=fault.kind)
        if fault is not None and fault.hold and not fault.wait_at_gate(release):
            self._drop()
            return
        before = fault if fault is not None and not fault.after_work else None
        delay = emulator.latency
        if before is not None and before.kind in ("timeout", "latency"):
            delay += before.seconds or 0.0
        if (delay > 0 and release.wait(delay)) or (before is not None and before.kind == "drop"):
            self._drop()
            return
        if before is not None and before.kind == "error":
            response = self._fault_error(before, request)
        else:
            response = api.handle(
                request,
                store=emulator.store,
                base_url=emulator.url,
                api_key_prefix=emulator.api_key_prefix,
            )
            emulator.store.update_record(record, handled_status=response.status)
        emulator.store.update_record(
            record, idempotent_replayed="Idempotent-Replayed" in response.headers
        )
        if fault is not None and fault.after_work:
            if fault.kind != "error":
                # The work is done and stored; the client never hears of it.
                if fault.kind == "timeout":
                    release.wait(fault.seconds or 0.0)
                self._drop()
                return
            response = self._fault_error(fault, request)
        emulator.store.update_record(record, status=response.status)
        self._send(response)

    def _fault_error(self, fault: Fault, request: api.ApiRequest) -> api.Response:
        return api.error_response(
            fault.error(), request.request_id, request.received_at, api.response_headers(request)
        )

    def _decode_params(
        self, query: str, body: bytes
    ) -> tuple[dict[str, FormValue], errors.ApiError | None]:
        pairs = parse_qsl(query, keep_blank_values=True)
        content_type = self.headers.get("Content-Type", FORM_CONTENT_TYPE).split(";")[0].strip()
        if body:
            if content_type.lower() != FORM_CONTENT_TYPE:
                return {}, errors.invalid(
                    f"Invalid request: unsupported Content-Type {content_type}. If error "
                    "persists and you need assistance, please contact support@stripe.com."
                )
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        try:
            return decode_pairs(pairs), None
        except FormError as error:
            return {}, errors.invalid(str(error), error.param)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: api.Response) -> None:
        self._write(response.status, response.headers, response.encode(), "application/json")

    def _write(
        self, status: int, headers: dict[str, str], payload: bytes, content_type: str
    ) -> None:
        # Saved before the client hears back, so what it was told survives a crash.
        self.server.emulator.save_state()
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its timeout fired while a fault held us).
            self.close_connection = True

    def _drop(self) -> None:
        """Close the connection without writing a single byte."""
        self.server.emulator.save_state()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
