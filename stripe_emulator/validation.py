"""Validation of decoded form params against the stripe SDK's generated TypedDicts.

`schema_for(SessionCreateParams)` walks the class's `__annotations__` once
(cached) and turns them into a small tree of schema nodes; `validate(schema,
params)` checks a decoded request against it and returns the params coerced to
Python types (int, bool, Decimal, str), or raises the `ApiError` Stripe would
answer with. Guarantees:

* keys inherited from `stripe._request_options.RequestOptions` (api_key,
  stripe_account, idempotency_key, ...) are request options, never params;
* `Literal['a', 'b'] | str` is strict: only the literals are accepted;
* an empty string means "unset": an optional field given "" is dropped, a
  required one is `parameter_invalid_empty`;
* unknown parameters are reported before any other problem.
"""

from __future__ import annotations

import re
import sys
import threading
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ForwardRef, Literal, NotRequired, Required, Union

import typing_extensions
from stripe._request_options import RequestOptions

from . import errors
from .forms import bracket_name

Path = tuple[str | int, ...]
ScalarKind = Literal["string", "integer", "boolean", "decimal"]

_INTEGER = re.compile(r"^-?[0-9]+$")
_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Scalar:
    kind: ScalarKind


@dataclass(frozen=True)
class Enum:
    values: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    item: Node


@dataclass(frozen=True)
class MapOf:
    value: Node


@dataclass(frozen=True)
class AnyOf:
    options: tuple[Node, ...]


@dataclass(frozen=True)
class Anything:
    """A value the typing does not constrain (e.g. `Any`): accepted as received."""


@dataclass(frozen=True)
class Field:
    node: Node
    required: bool


@dataclass(eq=False)
class Obj:
    """A TypedDict; `fields` is filled after creation so recursive types terminate."""

    name: str
    fields: dict[str, Field] = field(default_factory=dict)


Node = Scalar | Enum | ListOf | MapOf | AnyOf | Anything | Obj

_REQUEST_OPTIONS = RequestOptions.__annotations__
_SCALARS: dict[Any, ScalarKind] = {
    str: "string",
    int: "integer",
    bool: "boolean",
    Decimal: "decimal",
    float: "decimal",
}
_cache: dict[type, Obj] = {}
_cache_lock = threading.RLock()


# --- schema -------------------------------------------------------------------


def schema_for(params_class: type) -> Obj:
    """The schema of a stripe params TypedDict, built once per class."""
    with _cache_lock:
        cached = _cache.get(params_class)
        if cached is not None:
            return cached
        obj = Obj(params_class.__name__)
        _cache[params_class] = obj
        namespace = vars(sys.modules[params_class.__module__])
        required_keys = getattr(params_class, "__required_keys__", frozenset())
        for name, annotation in params_class.__annotations__.items():
            if _REQUEST_OPTIONS.get(name) is annotation:
                continue
            obj.fields[name] = Field(_node(annotation, namespace), name in required_keys)
        return obj


def _node(annotation: Any, namespace: Mapping[str, Any]) -> Node:
    annotation = _resolve(annotation, namespace)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (NotRequired, Required):
        return _node(args[0], namespace)
    if origin is Literal:
        values = tuple(str(v) for v in args if v != "")
        return Enum(values) if values else Scalar("string")
    if origin in (Union, types.UnionType):
        return _union(args, namespace)
    if origin in (list, tuple) or annotation in (list, tuple):
        return ListOf(_node(args[0], namespace) if args else Anything())
    if origin in (dict, Mapping) or annotation in (dict, Mapping):
        return MapOf(_node(args[1], namespace) if len(args) == 2 else Anything())
    if annotation in _SCALARS:
        return Scalar(_SCALARS[annotation])
    if typing_extensions.is_typeddict(annotation):
        return schema_for(annotation)
    return Anything()


def _resolve(annotation: Any, namespace: Mapping[str, Any]) -> Any:
    if isinstance(annotation, ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        # The string comes from the installed SDK's own generated annotations
        # (not from a request), evaluated where it was written, as typing would.
        return eval(annotation, dict(namespace))  # noqa: S307
    return annotation


def _union(args: tuple[Any, ...], namespace: Mapping[str, Any]) -> Node:
    options: list[Node] = []
    for arg in args:
        resolved = _resolve(arg, namespace)
        if resolved is type(None) or _is_untyped_stripe_object(resolved):
            continue
        if typing.get_origin(resolved) is Literal and set(typing.get_args(resolved)) == {""}:
            continue  # `Literal['']` only spells "may be unset", which "" always means
        options.append(_node(resolved, namespace))
    enums = [option for option in options if isinstance(option, Enum)]
    if enums:
        # `Literal[...] | str` is the SDK's forward-compatible spelling of an
        # enum; Stripe itself rejects values outside the literals.
        merged = Enum(tuple(value for enum in enums for value in enum.values))
        rest = [o for o in options if not isinstance(o, Enum) and o != Scalar("string")]
        options = [merged, *rest]
    if not options:
        return Scalar("string")
    return options[0] if len(options) == 1 else AnyOf(tuple(options))


def _is_untyped_stripe_object(annotation: Any) -> bool:
    target = typing.get_origin(annotation) or annotation
    return getattr(target, "__name__", "") == "UntypedStripeObject"


# --- validation ---------------------------------------------------------------


def validate(schema: Obj, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check decoded params against `schema`; return them coerced, or raise `ApiError`."""
    _check_unknown(schema, params, ())
    return _coerce_obj(schema, params, ())


def _check_unknown(node: Node, value: Any, path: Path) -> None:
    if isinstance(node, Obj) and isinstance(value, dict):
        unknown = [_first_leaf((*path, key), value[key]) for key in value if key not in node.fields]
        if unknown:
            raise errors.parameter_unknown(*unknown)
        for key, child in value.items():
            _check_unknown(node.fields[key].node, child, (*path, key))
    elif isinstance(node, ListOf):
        for index, item in _indexed(value):
            _check_unknown(node.item, item, (*path, index))
    elif isinstance(node, MapOf) and isinstance(value, dict):
        for key, child in value.items():
            _check_unknown(node.value, child, (*path, key))
    elif isinstance(node, AnyOf):
        candidates = _candidates(node, value)
        if candidates:
            _check_unknown(candidates[0], value, path)


def _first_leaf(path: Path, value: Any) -> str:
    """Name an unknown param down to its first value, as it appeared in the form."""
    while isinstance(value, dict | list) and value:
        key, value = next(iter(value.items())) if isinstance(value, dict) else (0, value[0])
        path = (*path, key)
    return bracket_name(path)


def _coerce(node: Node, value: Any, path: Path) -> Any:
    name = bracket_name(path)
    if isinstance(node, Obj):
        if not isinstance(value, dict):
            raise errors.invalid("Invalid object", name)
        return _coerce_obj(node, value, path)
    if isinstance(node, ListOf):
        if isinstance(value, str) or (isinstance(value, dict) and not _is_indexed(value)):
            raise errors.invalid("Invalid array", name)
        return [_coerce(node.item, item, (*path, index)) for index, item in _indexed(value)]
    if isinstance(node, MapOf):
        if isinstance(value, list):
            value = {str(index): item for index, item in enumerate(value)}
        if not isinstance(value, dict):
            raise errors.invalid("Invalid object", name)
        return {
            key: _coerce(node.value, item, (*path, key))
            for key, item in value.items()
            if item != ""  # `metadata[key]=` unsets that key
        }
    if isinstance(node, AnyOf):
        return _coerce_any_of(node, value, path)
    if isinstance(node, Anything):
        return value
    if not isinstance(value, str):
        shape = "hash" if isinstance(value, dict) else "array"
        kind = "string" if isinstance(node, Enum) else node.kind
        raise errors.invalid(f"Invalid {kind}: {name} must be a {kind}, not a {shape}", name)
    if isinstance(node, Enum):
        return _coerce_enum(node, value, name)
    return _coerce_scalar(node.kind, value, name)


def _coerce_obj(node: Obj, value: Mapping[str, Any], path: Path) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in value.items():
        spec = node.fields[key]
        if item == "":
            if spec.required:
                raise errors.parameter_empty(bracket_name((*path, key)))
            continue
        result[key] = _coerce(spec.node, item, (*path, key))
    for key, spec in node.fields.items():
        if spec.required and key not in value:
            raise errors.parameter_missing(bracket_name((*path, key)))
    return result


def _coerce_any_of(node: AnyOf, value: Any, path: Path) -> Any:
    first_error: errors.ApiError | None = None
    for option in _candidates(node, value) or node.options:
        try:
            return _coerce(option, value, path)
        except errors.ApiError as error:
            first_error = first_error or error
    assert first_error is not None
    raise first_error


def _coerce_enum(node: Enum, value: str, name: str) -> str:
    if value in node.values:
        return value
    raise errors.invalid(
        f"Invalid {name}: must be one of {_one_of(node.values)}", name, "parameter_invalid_string"
    )


def _coerce_scalar(kind: ScalarKind, value: str, name: str) -> Any:
    if kind == "string":
        return value
    if kind == "integer":
        if _INTEGER.match(value) and abs(int(value)) <= _INT64_MAX:
            return int(value)
        raise errors.invalid(f"Invalid integer: {value}", name, "parameter_invalid_integer")
    if kind == "boolean":
        if value in ("true", "false"):
            return value == "true"
        raise errors.invalid(f"Invalid boolean: {value}", name)
    try:
        if _DECIMAL.match(value):
            return Decimal(value)
    except InvalidOperation:
        pass
    raise errors.invalid(f"Invalid decimal: {value}", name)


def _one_of(values: tuple[str, ...]) -> str:
    if len(values) <= 2:
        return " or ".join(values)
    return ", ".join(values[:-1]) + ", or " + values[-1]


def _candidates(node: AnyOf, value: Any) -> list[Node]:
    """The union members a value of this shape could be, in declaration order."""

    def fits(option: Node) -> bool:
        if isinstance(value, str):
            return isinstance(option, Scalar | Enum | Anything)
        if isinstance(value, list):
            return isinstance(option, ListOf | MapOf | Anything)
        return isinstance(option, Obj | MapOf | Anything) or (
            isinstance(option, ListOf) and _is_indexed(value)
        )

    return [option for option in node.options if fits(option)]


def _is_indexed(value: Any) -> bool:
    return isinstance(value, list) or (
        isinstance(value, dict) and all(key.isdigit() for key in value)
    )


def _indexed(value: Any) -> list[tuple[str | int, Any]]:
    """List items with the index Stripe would name them by (sparse `a[3]` keeps 3)."""
    if isinstance(value, list):
        return list(enumerate(value))
    if isinstance(value, dict) and _is_indexed(value):
        return [(int(key), value[key]) for key in sorted(value, key=int)]
    return []
