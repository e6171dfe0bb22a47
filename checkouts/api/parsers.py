"""Request body parsers: JSON as is, and form bodies turned into the same nested shape."""

import json
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser

# Articles[0].ArticleId, Articles[0][ArticleId]
INDEXED_KEY = re.compile(r"^(?P<list>[^\[\].]+)\[(?P<index>\d+)\](?:\.|\[)(?P<field>[^\[\].]+)\]?$")
MAX_FORM_LIST_INDEX = 1000


class NestedFormParser(FormParser):
    """Parses ``application/x-www-form-urlencoded`` into a plain nested dict.

    A list field may come as indexed keys (``Articles[0].ArticleId=7`` or
    ``Articles[0][ArticleId]=7``) or as one JSON value (``Articles=[{...}]``).
    """

    def parse(self, stream, media_type=None, parser_context=None) -> dict[str, Any]:
        form = super().parse(stream, media_type, parser_context)
        data: dict[str, Any] = {}
        lists: dict[str, dict[int, dict[str, str]]] = {}
        for key, value in form.items():
            match = INDEXED_KEY.match(key)
            if match is None:
                data[key] = _json_or_text(key, value)
                continue
            index = int(match["index"])
            if index >= MAX_FORM_LIST_INDEX:
                raise ParseError(f"Form key {key!r} has an index above {MAX_FORM_LIST_INDEX - 1}.")
            lists.setdefault(match["list"], {}).setdefault(index, {})[match["field"]] = value
        for name, items in lists.items():
            data[name] = [items[index] for index in sorted(items)]
        return data


def _json_or_text(key: str, value: str) -> Any:
    if not value.lstrip().startswith(("[", "{")):
        return value
    try:
        return json.loads(value)
    except ValueError as error:
        raise ParseError(f"Form field {key!r} is not valid JSON: {error}") from error
