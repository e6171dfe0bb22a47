"""Handlers for `/v1/checkout/sessions` endpoints: create, retrieve, list, expire, line items."""

from __future__ import annotations

import copy
from typing import Any

from . import errors, expansion, lifecycle, objects, payment_methods, rules
from .pagination import DEFAULT_LIMIT, check_pagination, matches_created, paginate
from .routing import ApiContext
from .store import StoredSession

SESSIONS_URL = "/v1/checkout/sessions"
DEFAULT_EXPIRY_SECONDS = 24 * 60 * 60

Response = tuple[int, dict[str, Any]]


# --- checks (run before the handler; failures are not stored for replay) -----


def check_expand(ctx: ApiContext, prefix: str = "") -> None:
    expansion.check_expand(ctx, objects.EXPANDABLE_SESSION_FIELDS, prefix)


def check_list(ctx: ApiContext) -> None:
    check_pagination(ctx)
    check_expand(ctx, prefix="data.")


# --- handlers -----------------------------------------------------------------


def create(ctx: ApiContext) -> Response:
    params = ctx.params
    created = ctx.now
    line_items = [objects.build_line_item(item, created) for item in params.get("line_items", [])]
    currency = params.get("currency") or (line_items[0]["currency"] if line_items else None)
    amount = rules.session_total(params["line_items"]) if line_items else None
    session = objects.build_session(
        params,
        session_id=objects.new_session_id(),
        created=created,
        expires_at=params.get("expires_at", created + DEFAULT_EXPIRY_SECONDS),
        currency=currency,
        amount_total=amount,
        base_url=ctx.base_url,
        payment_method_types=payment_methods.offered(params),
        payment_method_configuration_details=payment_methods.configuration_details(params),
    )
    ctx.store.add_session(ctx.account, session, line_items, params.get("payment_intent_data", {}))
    return 200, _render(ctx.store.find_session(session["id"], ctx.account), ctx)


def retrieve(ctx: ApiContext) -> Response:
    return 200, _render(_owned_session(ctx), ctx)


def expire(ctx: ApiContext) -> Response:
    stored = _owned_session(ctx)
    status = stored.session["status"]
    if status != "open":
        raise errors.invalid(
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f"Session has a status of `{status}`."
        )
    lifecycle.expire(
        ctx.store,
        stored,
        now=ctx.now,
        request_id=ctx.request_id,
        idempotency_key=ctx.idempotency_key,
    )
    return 200, _render(stored, ctx)


def list_sessions(ctx: ApiContext) -> Response:
    params = ctx.params
    ordered = ctx.store.sessions_of(ctx.account)
    page, has_more = paginate(
        ordered,
        params,
        id_of=lambda stored: stored.session["id"],
        object_name="checkout.session",
        keep=lambda stored: _matches_filters(stored.session, params),
    )
    expand = [path.removeprefix("data.") for path in params.get("expand", [])]
    data = [_render(stored, ctx, expand) for stored in page]
    return 200, objects.list_object(SESSIONS_URL, data, has_more)


def list_line_items(ctx: ApiContext) -> Response:
    stored = _owned_session(ctx)
    page, has_more = paginate(
        stored.line_items, ctx.params, id_of=lambda item: item["id"], object_name="item"
    )
    url = f"{SESSIONS_URL}/{stored.session['id']}/line_items"
    return 200, objects.list_object(url, copy.deepcopy(page), has_more)


# --- helpers ------------------------------------------------------------------


def _owned_session(ctx: ApiContext) -> StoredSession:
    session_id = ctx.path_args["session"]
    stored = ctx.store.find_session(session_id, ctx.account)
    if stored is None:
        raise errors.resource_missing("checkout.session", session_id, "session")
    return stored


def _render(
    stored: StoredSession | None, ctx: ApiContext, expand: list[str] | None = None
) -> dict[str, Any]:
    assert stored is not None
    session = copy.deepcopy(stored.session)
    expand = ctx.params.get("expand", []) if expand is None else expand
    if any(path.split(".")[0] == "line_items" for path in expand):
        items = copy.deepcopy(stored.line_items)
        url = f"{SESSIONS_URL}/{session['id']}/line_items"
        session["line_items"] = objects.list_object(
            url, items[:DEFAULT_LIMIT], len(items) > DEFAULT_LIMIT
        )
    others = [path for path in expand if path.split(".")[0] != "line_items"]
    return expansion.expand(ctx, session, others)


_EQUALITY_FILTERS = (
    "status",
    "customer",
    "customer_account",
    "payment_intent",
    "payment_link",
    "subscription",
)


def _matches_filters(session: dict[str, Any], params: dict[str, Any]) -> bool:
    for name in _EQUALITY_FILTERS:
        if name in params and session.get(name) != params[name]:
            return False
    if "customer_details" in params:
        details = session.get("customer_details") or {}
        if details.get("email") != params["customer_details"]["email"]:
            return False
    if "created" in params:
        return matches_created(session["created"], params["created"])
    return True
