"""The `/_emulator/` control routes for payments and refunds (listed in `control`).

`route` answers the paths it knows and None for the others. Unknown objects
are a 404; a refund Stripe would refuse answers Stripe's error body with its
status; a refund whose state does not allow the change, or a malformed body,
is a 400.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .api import Response

if TYPE_CHECKING:
    from .server import StripeEmulator

_OBJECT = re.compile(
    r"/_emulator/(?P<kind>payment_intents|charges|application_fees|refunds)/(?P<id>[^/]+)"
)
_REFUND_ACTION = re.compile(r"/_emulator/refunds/(?P<id>[^/]+)/(?P<action>settle|fail)")


def route(emulator: StripeEmulator, method: str, path: str, payload: Any) -> Response | None:
    if path == "/_emulator/refunds":
        if method == "GET":
            return Response(200, {"data": emulator.refunds()})
        if method == "POST":
            return _dashboard_refund(emulator, payload)
    if (method, path) == ("POST", "/_emulator/refunds_start_pending"):
        _only(payload, "times")
        times = payload.get("times", 1)
        if times is not None and not isinstance(times, int):
            raise TypeError("times must be a whole number or null")
        emulator.refunds_start_pending(times)
        return Response(200, {"times": times})
    found = _REFUND_ACTION.fullmatch(path)
    if found and method == "POST":
        if found["action"] == "settle":
            _only(payload)
            return Response(200, emulator.settle_refund(found["id"]))
        _only(payload, "failure_reason")
        reason = payload.get("failure_reason", "unknown")
        return Response(200, emulator.fail_refund(found["id"], failure_reason=reason))
    found = _OBJECT.fullmatch(path)
    if found and method == "GET":
        kind = found["kind"].removesuffix("s")
        stored = emulator.store.object_snapshot(kind, found["id"])
        return Response(200, {"account": stored.account, "object": stored.object})
    return None


def _dashboard_refund(emulator: StripeEmulator, payload: dict[str, Any]) -> Response:
    _only(payload, "payment_intent", "amount", "reason", "metadata")
    intent = payload.get("payment_intent")
    if not isinstance(intent, str) or not intent:
        raise ValueError("payment_intent is required")
    amount = payload.get("amount")
    if amount is not None and not isinstance(amount, int):
        raise TypeError("amount must be a whole number")
    refund = emulator.refund_from_dashboard(
        intent, amount, reason=payload.get("reason"), metadata=payload.get("metadata")
    )
    return Response(200, refund)


def _only(payload: dict[str, Any], *names: str) -> None:
    unknown = set(payload) - set(names)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
