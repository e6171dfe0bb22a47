"""The pieces an API endpoint is made of: a `Route` and the `ApiContext` its handler gets.

To add an endpoint, write `check(ctx)` (optional: business-rule validation,
raising `ApiError`; its failures are never stored for idempotent replay) and
`handler(ctx) -> (status, body)` (raising `ApiError` for state errors, which
are stored), then list a `Route` in `routes.py`. `precheck(params)` (optional)
sees the decoded params before they are validated against the SDK's types:
for a param Stripe answers with its own error though the SDK no longer has it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .store import Store


@dataclass
class ApiContext:
    """What a handler may use: validated params, path arguments, caller identity, state."""

    params: dict[str, Any]
    path_args: dict[str, str]
    api_key: str
    account: str | None
    received_at: float
    request_id: str
    base_url: str
    store: Store
    idempotency_key: str | None = None
    # The params as decoded, before validation: to tell `metadata[key]=` (unset) from absent.
    raw_params: dict[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> int:
        """The receive time in epoch seconds, as Stripe stamps `created`."""
        return int(self.received_at)


Handler = Callable[[ApiContext], tuple[int, dict[str, Any]]]
Check = Callable[[ApiContext], None]
Precheck = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # a regex with named groups, matched against the whole path
    params_class: type
    handler: Handler
    check: Check | None = None
    precheck: Precheck | None = None
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", re.compile(self.path))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None
