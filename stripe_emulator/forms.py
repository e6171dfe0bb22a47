"""Decoding of Stripe's bracket form encoding (`a[b][0][c]=v`) into nested data.

The result holds only strings, dicts and lists, exactly as received: no type
coercion happens here. A bracket level becomes a list when its keys are the
indexes 0..n-1 (in any order; or `[]` appends); any other level stays a dict, so
`metadata[0]=x` with a single key still decodes to a list and it is up to the
schema to accept that for a map-typed field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")

FormValue = str | dict[str, "FormValue"] | list["FormValue"]


class FormError(ValueError):
    """The form cannot be decoded into one consistent tree; `param` names the offending key."""

    def __init__(self, param: str) -> None:
        super().__init__(
            f"Invalid request: `{param}` was given both as a single value and as a hash or array."
        )
        self.param = param


class _Appended(list):
    """A level built from `key[]` entries."""


def bracket_name(path: Sequence[str | int]) -> str:
    """Render a parameter path the way Stripe names it: `line_items[0][price_data]`."""
    if not path:
        return ""
    head, *rest = path
    return str(head) + "".join(f"[{part}]" for part in rest)


def split_key(key: str) -> list[str]:
    """`a[b][]` -> ["a", "b", ""]; a key that is not well-formed is taken literally."""
    match = _KEY.match(key)
    if match is None:
        return [key]
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def decode_query(query: str) -> dict[str, FormValue]:
    return decode_pairs(parse_qsl(query, keep_blank_values=True))


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, FormValue]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        _insert(root, split_key(key), value)
    return _finish(root)


def _insert(root: dict[str, Any], segments: list[str], value: str) -> None:
    node: Any = root
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        if isinstance(node, _Appended):
            node = _descend_appended(node, segments[depth + 1 :], value)
            if node is None:
                return
            continue
        name = bracket_name(segments[: depth + 1])
        if last:
            if isinstance(node.get(segment), dict | list):
                raise FormError(name)
            node[segment] = value
            return
        appending = segments[depth + 1] == ""
        child = node.get(segment)
        if child is None:
            child = _Appended() if appending else {}
            node[segment] = child
        elif isinstance(child, str) or isinstance(child, _Appended) != appending:
            raise FormError(name)
        node = child


def _descend_appended(items: _Appended, remaining: list[str], value: str) -> dict[str, Any] | None:
    """Handle a `[]` segment: append the value, or pick/append the dict the rest goes into."""
    if not remaining:
        items.append(value)
        return None
    # Rack semantics: keep filling the last element until a key repeats.
    if items and isinstance(items[-1], dict) and remaining[0] not in items[-1]:
        return items[-1]
    fresh: dict[str, Any] = {}
    items.append(fresh)
    return fresh


def _finish(node: Any) -> Any:
    if isinstance(node, list):
        return [_finish(item) for item in node]
    if isinstance(node, dict):
        finished = {key: _finish(value) for key, value in node.items()}
        if finished and all(_INDEX.match(key) for key in finished):
            indexes = sorted(int(key) for key in finished)
            if indexes == list(range(len(indexes))):
                return [finished[str(index)] for index in indexes]
        return finished
    return node
