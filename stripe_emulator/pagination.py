"""Stripe's cursor pagination (`limit`, `starting_after`, `ending_before`) over any list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from . import errors
from .routing import ApiContext

DEFAULT_LIMIT = 10
MAX_LIMIT = 100

T = TypeVar("T")


def check_pagination(ctx: ApiContext) -> None:
    """Reject a `limit` outside 1..100 and a request giving both cursors, as Stripe does."""
    limit = ctx.params.get("limit", DEFAULT_LIMIT)
    if limit < 1:
        raise errors.value_at_least("limit", 1)
    if limit > MAX_LIMIT:
        raise errors.value_at_most("limit", MAX_LIMIT)
    if "starting_after" in ctx.params and "ending_before" in ctx.params:
        raise errors.parameters_exclusive("ending_before", "starting_after")


def paginate(
    ordered: list[T],
    params: dict[str, Any],
    *,
    id_of: Callable[[T], str],
    object_name: str,
    keep: Callable[[T], bool] = lambda _: True,
) -> tuple[list[T], bool]:
    """Stripe cursor pagination over `ordered` (in list order); returns (page, has_more).

    A cursor must name an item of `ordered` (filtered out or not), else 400
    `resource_missing` on that param.
    """
    limit = params.get("limit", DEFAULT_LIMIT)
    ids = [id_of(item) for item in ordered]

    def position(param: str) -> int:
        cursor = params[param]
        if cursor not in ids:
            raise errors.resource_missing(object_name, cursor, param, status=400)
        return ids.index(cursor)

    if "starting_after" in params:
        candidates = [item for item in ordered[position("starting_after") + 1 :] if keep(item)]
        return candidates[:limit], len(candidates) > limit
    if "ending_before" in params:
        candidates = [item for item in ordered[: position("ending_before")] if keep(item)]
        return candidates[-limit:], len(candidates) > limit
    candidates = [item for item in ordered if keep(item)]
    return candidates[:limit], len(candidates) > limit


def matches_created(created: int, condition: Any) -> bool:
    """Whether a `created` timestamp satisfies a `created` filter (an int or gt/gte/lt/lte)."""
    if isinstance(condition, int):
        return created == condition
    if isinstance(condition, dict):
        bounds: dict[str, Callable[[int, int], bool]] = {
            "gt": lambda value, bound: value > bound,
            "gte": lambda value, bound: value >= bound,
            "lt": lambda value, bound: value < bound,
            "lte": lambda value, bound: value <= bound,
        }
        return all(bounds[op](created, bound) for op, bound in condition.items())
    return True
