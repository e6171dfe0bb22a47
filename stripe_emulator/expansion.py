"""`expand[]`: which fields a request may expand, and expanding ids into their objects.

Only objects the emulator holds are materialised (found by id in the store,
on the caller's account); any other expandable field keeps its id or null.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from . import errors
from .routing import ApiContext


def check_expand(ctx: ApiContext, expandable: Iterable[str], prefix: str = "") -> None:
    """Refuse an `expand[]` path whose first field (after `prefix`) is not expandable."""
    allowed = frozenset(expandable)
    for index, path in enumerate(ctx.params.get("expand", [])):
        field_path = path.removeprefix(prefix) if prefix else path
        if field_path.split(".")[0] not in allowed:
            raise errors.invalid(f"This property cannot be expanded ({path}).", f"expand[{index}]")


def expandable(*fields: str) -> Callable[[ApiContext], None]:
    """A route check allowing `expand[]` of these fields (none: no expansion at all)."""
    return lambda ctx: check_expand(ctx, fields)


check_no_expand = expandable()


def list_paths(ctx: ApiContext) -> list[str]:
    """A list request's `expand[]` paths for its items (`data.charge` -> `charge`)."""
    return [path.removeprefix("data.") for path in ctx.params.get("expand", [])]


def expand(ctx: ApiContext, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """`obj` (changed in place, and returned) with each path's id replaced by its object.

    Nested paths (`payment_intent.latest_charge`) expand inside the expanded object.
    """
    nested: dict[str, list[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        nested.setdefault(head, [])
        if rest:
            nested[head].append(rest)
    for field_name, rest in nested.items():
        value = obj.get(field_name)
        if isinstance(value, str):
            stored = ctx.store.find_object(None, value, ctx.account)
            if stored is not None:
                obj[field_name] = expand(ctx, copy.deepcopy(stored.object), rest)
    return obj
