"""The `/_emulator/` control API: drive an out-of-process emulator like the Python one.

    GET    /_emulator/requests          recorded requests {"data": [...]}
    POST   /_emulator/reset             forget everything (sessions, requests, faults, ...)
    GET    /_emulator/faults            pending faults
    POST   /_emulator/faults            add a fault; JSON body with `Fault` fields (kind,
                                        method, path, stripe_account, times, status,
                                        seconds, should_retry, message, code, hold,
                                        after_work); 201 with the fault and its `id`
    DELETE /_emulator/faults            remove all faults (letting go of held requests)
    GET    /_emulator/faults/{id}       one fault, pending or used up (`fired`, `held`)
    POST   /_emulator/faults/{id}/wait_until_held
                                        {"timeout": 5, "count": 1}: wait until that many
                                        requests reached its hold gate; 504 if they did not
    POST   /_emulator/faults/{id}/release
                                        open its hold gate: held requests go on
    POST   /_emulator/latency           {"seconds": 0.2}: delay every API request
    POST   /_emulator/clock             {"now": 1700000000} freezes time; {"now": null} thaws
    GET    /_emulator/sessions          every session, with account and line items
    GET    /_emulator/sessions/{id}     one session, whichever account owns it
    POST   /_emulator/sessions/{id}/complete
                                        the customer pays; optional JSON {"payment_status":
                                        "paid"|"unpaid", "customer_email", "customer_name"}
    POST   /_emulator/sessions/{id}/async_payment
                                        {"succeeded": true|false}: settle an unpaid completion
    POST   /_emulator/sessions/{id}/cancel
                                        the customer clicks back (changes nothing)
    POST   /_emulator/expire_due        expire sessions due by the emulator's clock now
    GET    /_emulator/payment_intents/{id}
    GET    /_emulator/charges/{id}
    GET    /_emulator/application_fees/{id}
    GET    /_emulator/refunds/{id}      one object, whichever account owns it:
                                        {"account", "object"}
    GET    /_emulator/refunds           every refund, oldest first {"data": [...]}
    POST   /_emulator/refunds           a refund "from the Dashboard": {"payment_intent",
                                        "amount"?, "reason"?, "metadata"?}; no API request
                                        recorded, same rules (Stripe's error if refused)
                                        and events as POST /v1/refunds
    POST   /_emulator/refunds_start_pending
                                        {"times": 1}: the next refunds (null: all) start
                                        pending
    POST   /_emulator/refunds/{id}/settle
                                        a pending refund succeeds (refund.updated)
    POST   /_emulator/refunds/{id}/fail {"failure_reason"?: "unknown"}: a pending or
                                        succeeded refund fails (refund.failed,
                                        refund.updated; the charge's amount_refunded drops)
    GET    /_emulator/events            every event emitted, oldest first
    GET    /_emulator/webhook           the webhook endpoint ({"endpoint": null} if none)
    POST   /_emulator/webhook           {"url", "secret", "retry_delays"?, "max_attempts"?,
                                        "timeout"?}: send every new event there
    DELETE /_emulator/webhook           send new events nowhere
    GET    /_emulator/webhook/deliveries
                                        every delivery attempt, in the order made
    GET    /_emulator/webhook_endpoints every endpoint created through /v1/webhook_endpoints,
                                        with its account, connect flag and secret
    POST   /_emulator/webhook_delivery  {"retry_delays"?, "max_attempts"?, "timeout"?}: how
                                        events are delivered to those endpoints
    POST   /_emulator/webhook/drain     {"timeout": 10}: wait until everything queued is
                                        delivered or given up; 504 if that takes longer

Answers are JSON; an object the emulator does not know is a 404, an action
its state does not allow (or a malformed body) a 400. No auth: this API
exists only on the emulator.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from . import control_payments
from .api import Response
from .errors import ApiError
from .faults import Fault
from .webhooks import DEFAULT_RETRY_DELAYS, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from .server import StripeEmulator

_SESSION = re.compile(r"/_emulator/sessions/(?P<id>[^/]+)(?P<action>/[a-z_]+)?")
_FAULT = re.compile(r"/_emulator/faults/(?P<id>[^/]+)(?P<action>/[a-z_]+)?")


def handle(emulator: StripeEmulator, method: str, path: str, body: bytes) -> Response:
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        return _error(400, "Body must be JSON.")
    if method in ("POST",) and not isinstance(payload, dict):
        return _error(400, "Body must be a JSON object.")
    try:
        return _route(emulator, method, path, payload)
    except TimeoutError as error:
        return _error(504, str(error))
    except KeyError as error:
        return _error(404, f"No such object: {error}")
    except ApiError as error:
        return Response(error.status, error.body())
    except (TypeError, ValueError, re.error) as error:
        return _error(400, str(error))


def _route(emulator: StripeEmulator, method: str, path: str, payload: Any) -> Response:
    if (method, path) == ("GET", "/_emulator/requests"):
        return _ok({"data": [r.to_dict() for r in emulator.requests]})
    if (method, path) == ("POST", "/_emulator/reset"):
        emulator.reset()
        return _ok({"reset": True})
    if path == "/_emulator/faults":
        if method == "GET":
            return _ok({"data": [fault.to_dict() for fault in emulator.faults.pending()]})
        if method == "POST":
            fault = emulator.faults.add(Fault.from_dict(payload))
            return Response(201, fault.to_dict())
        if method == "DELETE":
            emulator.faults.clear()
            return _ok({"deleted": True})
    found = _FAULT.fullmatch(path)
    if found:
        try:
            return _fault(emulator, method, emulator.fault(found["id"]), found["action"], payload)
        except KeyError:
            return _error(404, f"No such fault: '{found['id']}'")
    if (method, path) == ("POST", "/_emulator/latency"):
        emulator.latency = float(payload.get("seconds", 0))
        return _ok({"seconds": emulator.latency})
    if (method, path) == ("POST", "/_emulator/clock"):
        now = payload.get("now")
        emulator.set_time(None if now is None else float(now))
        return _ok({"now": emulator.now()})
    if (method, path) == ("GET", "/_emulator/sessions"):
        return _ok({"data": [asdict(stored) for stored in emulator.store.all_sessions()]})
    if (method, path) == ("POST", "/_emulator/expire_due"):
        return _ok({"expired": emulator.expire_due_sessions()})
    if (method, path) == ("GET", "/_emulator/events"):
        return _ok({"data": emulator.events})
    if (method, path) == ("GET", "/_emulator/webhook_endpoints"):
        return _ok({"data": emulator.webhook_endpoints()})
    if (method, path) == ("POST", "/_emulator/webhook_delivery"):
        _only(payload, "retry_delays", "max_attempts", "timeout")
        emulator.set_webhook_delivery(
            tuple(payload.get("retry_delays", DEFAULT_RETRY_DELAYS)),
            max_attempts=payload.get("max_attempts"),
            timeout=float(payload.get("timeout", DEFAULT_TIMEOUT)),
        )
        return _ok({"delivery": "set"})
    if path == "/_emulator/webhook" or path.startswith("/_emulator/webhook/"):
        return _webhook(emulator, method, path, payload)
    answered = control_payments.route(emulator, method, path, payload)
    if answered is not None:
        return answered
    found = _SESSION.fullmatch(path)
    if found:
        try:
            return _session(emulator, method, found["id"], found["action"], payload)
        except KeyError:
            return _error(404, f"No such checkout.session: '{found['id']}'")
    return _not_found(method, path)


def _session(
    emulator: StripeEmulator, method: str, session_id: str, action: str | None, payload: Any
) -> Response:
    if method == "GET" and action is None:
        return _ok(asdict(emulator.store.session_snapshot(session_id)))
    if method != "POST":
        return _not_found(method, f"/_emulator/sessions/{session_id}{action or ''}")
    if action == "/complete":
        _only(payload, "payment_status", "customer_email", "customer_name")
        payment_status = _string(payload, "payment_status") or "paid"
        if payment_status not in ("paid", "unpaid"):
            raise ValueError(f"payment_status must be paid or unpaid, not {payment_status!r}")
        session = emulator.complete_session(
            session_id,
            payment_status=payment_status,
            customer_email=_string(payload, "customer_email"),
            customer_name=_string(payload, "customer_name"),
        )
        return _ok(session)
    if action == "/async_payment":
        _only(payload, "succeeded")
        succeeded = payload.get("succeeded", True)
        if not isinstance(succeeded, bool):
            raise TypeError("succeeded must be true or false")
        return _ok(emulator.settle_async_payment(session_id, succeeded=succeeded))
    if action == "/cancel":
        _only(payload)
        return _ok(emulator.cancel_session(session_id))
    return _not_found(method, f"/_emulator/sessions/{session_id}{action or ''}")


def _fault(
    emulator: StripeEmulator, method: str, fault: Fault, action: str | None, payload: Any
) -> Response:
    if (method, action) == ("GET", None):
        return _ok(fault.to_dict())
    if (method, action) == ("POST", "/wait_until_held"):
        _only(payload, "timeout", "count")
        fault.wait_until_held(float(payload.get("timeout", 5.0)), int(payload.get("count", 1)))
        return _ok(fault.to_dict())
    if (method, action) == ("POST", "/release"):
        _only(payload)
        fault.release()
        return _ok(fault.to_dict())
    return _not_found(method, f"/_emulator/faults/{fault.id}{action or ''}")


def _webhook(emulator: StripeEmulator, method: str, path: str, payload: Any) -> Response:
    if path == "/_emulator/webhook":
        if method == "GET":
            endpoint = emulator.webhooks.endpoint
            return _ok({"endpoint": endpoint.to_dict() if endpoint else None})
        if method == "POST":
            _only(payload, "url", "secret", "retry_delays", "max_attempts", "timeout")
            endpoint = emulator.configure_webhook(
                _required_string(payload, "url"),
                _required_string(payload, "secret"),
                tuple(payload.get("retry_delays", DEFAULT_RETRY_DELAYS)),
                max_attempts=payload.get("max_attempts"),
                timeout=float(payload.get("timeout", DEFAULT_TIMEOUT)),
            )
            return _ok({"endpoint": endpoint.to_dict()})
        if method == "DELETE":
            emulator.remove_webhook()
            return _ok({"endpoint": None})
    if (method, path) == ("GET", "/_emulator/webhook/deliveries"):
        return _ok({"data": [record.to_dict() for record in emulator.webhook_deliveries]})
    if (method, path) == ("POST", "/_emulator/webhook/drain"):
        _only(payload, "timeout")
        records = emulator.drain_webhooks(float(payload.get("timeout", 10.0)))
        return _ok({"data": [record.to_dict() for record in records]})
    return _not_found(method, path)


def _only(payload: dict[str, Any], *names: str) -> None:
    unknown = set(payload) - set(names)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")


def _string(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value


def _required_string(payload: dict[str, Any], name: str) -> str:
    value = _string(payload, name)
    if not value:
        raise ValueError(f"{name} is required")
    return value


def _not_found(method: str, path: str) -> Response:
    return _error(404, f"Unrecognized emulator control URL ({method}: {path}).")


def _ok(body: dict[str, Any]) -> Response:
    return Response(200, body)


def _error(status: int, message: str) -> Response:
    return Response(status, {"error": {"type": "emulator_error", "message": message}})
