"""`metadata` as Stripe takes it: its limits, and how an update merges into what is there."""

from __future__ import annotations

from typing import Any

from . import errors

MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500


def check_metadata(metadata: dict[str, str] | None, param: str) -> None:
    """Raise Stripe's error for too many keys, or a key or value too long."""
    if not metadata:
        return
    if len(metadata) > MAX_METADATA_KEYS:
        raise errors.invalid(
            f"You can have up to {MAX_METADATA_KEYS} metadata keys, but you passed in "
            f"{len(metadata)} keys.",
            param,
        )
    for key, value in metadata.items():
        if len(key) > MAX_METADATA_KEY:
            raise errors.invalid(
                f"Metadata keys can have up to {MAX_METADATA_KEY} characters, but you passed in "
                f"a key that is {len(key)} characters. Invalid key: {key}",
                f"{param}[{key}]",
            )
        if len(value) > MAX_METADATA_VALUE:
            raise errors.invalid(
                f"Metadata values can have up to {MAX_METADATA_VALUE} characters, but you passed "
                f"in a value that is {len(value)} characters. Invalid value: {value}",
                f"{param}[{key}]",
            )


def merged(current: dict[str, str], raw: Any) -> dict[str, str]:
    """The metadata after an update whose raw (undecoded) `metadata` param is `raw`.

    Given keys are set; `metadata[key]=` unsets that key; `metadata=` unsets all.
    """
    if raw == "":
        return {}
    result = dict(current)
    for key, value in (raw or {}).items():
        if value == "":
            result.pop(key, None)
        else:
            result[key] = value
    return result
