"""Handlers for `/v1/events`: retrieve one event, list them newest first.

Events are scoped like Stripe's: a connected account's events are seen with
its `Stripe-Account` header, the platform's without one.
"""

from __future__ import annotations

from typing import Any

from . import errors, objects
from .expansion import check_no_expand
from .pagination import check_pagination, matches_created, paginate
from .routing import ApiContext

EVENTS_URL = "/v1/events"

Response = tuple[int, dict[str, Any]]


def check_list(ctx: ApiContext) -> None:
    check_pagination(ctx)
    check_no_expand(ctx)
    if "type" in ctx.params and "types" in ctx.params:
        raise errors.parameters_exclusive("type", "types")
    if "delivery_success" in ctx.params:
        # The emulator does not tie events to deliveries per endpoint; say so
        # rather than answer a list that silently ignores the filter.
        raise errors.invalid(
            "The Stripe emulator does not support filtering events by delivery_success.",
            "delivery_success",
        )


def retrieve(ctx: ApiContext) -> Response:
    event_id = ctx.path_args["event"]
    event = ctx.store.events.find(event_id, ctx.account)
    if event is None:
        raise errors.resource_missing("event", event_id, "id")
    return 200, event


def list_events(ctx: ApiContext) -> Response:
    params = ctx.params
    page, has_more = paginate(
        ctx.store.events.of(ctx.account),
        params,
        id_of=lambda event: event["id"],
        object_name="event",
        keep=lambda event: _matches(event, params),
    )
    return 200, objects.list_object(EVENTS_URL, page, has_more)


def _matches(event: dict[str, Any], params: dict[str, Any]) -> bool:
    if "type" in params and not _type_matches(event["type"], params["type"]):
        return False
    if "types" in params and event["type"] not in params["types"]:
        return False
    return "created" not in params or matches_created(event["created"], params["created"])


def _type_matches(event_type: str, pattern: str) -> bool:
    """Stripe's `type` filter: an exact type, or a `*` wildcard (`checkout.session.*`)."""
    if "*" not in pattern:
        return event_type == pattern
    prefix, _, suffix = pattern.partition("*")
    return event_type.startswith(prefix) and event_type.endswith(suffix)
