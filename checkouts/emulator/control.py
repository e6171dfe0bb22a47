"""The `/_emulator/` control API: drive an out-of-process emulator like the Python one.

    GET    /_emulator/requests          recorded requests {"data": [...]}
    POST   /_emulator/reset             forget everything (sessions, requests, faults, ...)
    GET    /_emulator/faults            pending faults
    POST   /_emulator/faults            add a fault; JSON body with `Fault` fields
    DELETE /_emulator/faults            remove all faults
    POST   /_emulator/latency           {"seconds": 0.2}: delay every API request
    POST   /_emulator/clock             {"now": 1700000000} freezes time; {"now": null} thaws
    GET    /_emulator/sessions          every session, with account and line items
    GET    /_emulator/sessions/{id}     one session, whichever account owns it

No auth: this API exists only on the emulator.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .api import Response
from .faults import Fault

if TYPE_CHECKING:
    from .server import StripeEmulator

_SESSION = re.compile(r"/_emulator/sessions/(?P<id>[^/]+)")


def handle(emulator: StripeEmulator, method: str, path: str, body: bytes) -> Response:
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        return _error(400, "Body must be JSON.")
    if method in ("POST",) and not isinstance(payload, dict):
        return _error(400, "Body must be a JSON object.")
    try:
        return _route(emulator, method, path, payload)
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
    if (method, path) == ("POST", "/_emulator/latency"):
        emulator.latency = float(payload.get("seconds", 0))
        return _ok({"seconds": emulator.latency})
    if (method, path) == ("POST", "/_emulator/clock"):
        now = payload.get("now")
        emulator.set_time(None if now is None else float(now))
        return _ok({"now": emulator.now()})
    if (method, path) == ("GET", "/_emulator/sessions"):
        return _ok({"data": [asdict(stored) for stored in emulator.store.all_sessions()]})
    found = _SESSION.fullmatch(path)
    if method == "GET" and found:
        try:
            return _ok(asdict(emulator.store.session_snapshot(found["id"])))
        except KeyError:
            return _error(404, f"No such checkout.session: '{found['id']}'")
    return _error(404, f"Unrecognized emulator control URL ({method}: {path}).")


def _ok(body: dict[str, Any]) -> Response:
    return Response(200, body)


def _error(status: int, message: str) -> Response:
    return Response(status, {"error": {"type": "emulator_error", "message": message}})
