"""Handlers for `/v1/webhook_endpoints`: create, retrieve, list, update, delete.

Endpoints belong to the account that creates them (the platform without a
`Stripe-Account` header). The signing `secret` (`whsec_...`) is in the
create answer only, as on Stripe; `connect` (create only) is not shown on
the object either. What each endpoint then receives is `endpoints`' to say.
Unlike Stripe, a URL need not be publicly reachable: local receivers are the
point of an emulator.
"""

from __future__ import annotations

import secrets
from typing import Any

from . import errors, objects, rules
from .expansion import check_no_expand
from .metadata import check_metadata, merged
from .pagination import check_pagination, paginate
from .routing import ApiContext

ENDPOINTS_URL = "/v1/webhook_endpoints"

Response = tuple[int, dict[str, Any]]


# --- checks -------------------------------------------------------------------


def check_create(ctx: ApiContext) -> None:
    check_no_expand(ctx)
    _check_fields(ctx.params)


def check_update(ctx: ApiContext) -> None:
    check_no_expand(ctx)
    _check_fields(ctx.params)


def check_list(ctx: ApiContext) -> None:
    check_pagination(ctx)
    check_no_expand(ctx)


def _check_fields(params: dict[str, Any]) -> None:
    if "url" in params:
        rules.check_url(params["url"], "url")
    check_metadata(params.get("metadata"), "metadata")


# --- handlers -----------------------------------------------------------------


def create(ctx: ApiContext) -> Response:
    params = ctx.params
    endpoint = {
        "id": objects.random_id("we_"),
        "object": "webhook_endpoint",
        "api_version": params.get("api_version"),
        "application": None,
        "created": ctx.now,
        "description": params.get("description"),
        "enabled_events": list(params["enabled_events"]),
        "livemode": False,
        "metadata": params.get("metadata", {}),
        "status": "enabled",
        "url": params["url"],
    }
    secret = "whsec_" + secrets.token_hex(16)
    connect = bool(params.get("connect", False))
    ctx.store.webhook_endpoints.add(ctx.account, endpoint, secret, connect)
    return 200, {**endpoint, "secret": secret}


def retrieve(ctx: ApiContext) -> Response:
    return 200, _owned(ctx)


def list_endpoints(ctx: ApiContext) -> Response:
    page, has_more = paginate(
        ctx.store.webhook_endpoints.of(ctx.account),
        ctx.params,
        id_of=lambda endpoint: endpoint["id"],
        object_name="webhook_endpoint",
    )
    return 200, objects.list_object(ENDPOINTS_URL, page, has_more)


def update(ctx: ApiContext) -> Response:
    current = _owned(ctx)
    params, raw = ctx.params, ctx.raw_params
    changes: dict[str, Any] = {}
    for name in ("url", "enabled_events"):
        if name in params:
            changes[name] = params[name]
    if "description" in raw:
        changes["description"] = params.get("description")  # "" unsets it
    if "disabled" in params:
        changes["status"] = "disabled" if params["disabled"] else "enabled"
    if "metadata" in raw:
        changes["metadata"] = merged(current["metadata"], raw["metadata"])
    return 200, ctx.store.webhook_endpoints.update(current["id"], changes)


def delete(ctx: ApiContext) -> Response:
    endpoint = _owned(ctx)
    ctx.store.webhook_endpoints.remove(endpoint["id"])
    return 200, {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


def _owned(ctx: ApiContext) -> dict[str, Any]:
    endpoint_id = ctx.path_args["endpoint"]
    endpoint = ctx.store.webhook_endpoints.find(endpoint_id, ctx.account)
    if endpoint is None:
        raise errors.resource_missing("webhook_endpoint", endpoint_id, "id")
    return endpoint
