"""Reads JSV, ServiceStack's text format, which its clients use for a complex value given as
text: a CSV cell, a form field or a query-string value (``[{ArticleId:1,ArticleTypeId:1}]``).

Hand-written because no maintained Python library reads JSV. It reads what ServiceStack's
TypeSerializer writes (https://docs.servicestack.net/jsv-format): maps ``{Key:Value}``,
lists ``[a,b]``, and strings, bare or in double quotes with ``""`` for a quote (a string
holding any of ``[]{},"`` is quoted). JSV has no types, so every scalar is a string; the
serializers convert them. Whitespace around tokens is skipped, as ServiceStack skips it in
its indented samples.
"""

from typing import Any

QUOTE = '"'
MAP_START, MAP_END, LIST_START, LIST_END = "{", "}", "[", "]"
KEY_END, SEPARATOR = ":", ","


class JsvError(ValueError):
    """Text that is not JSV, or JSV nested deeper than allowed."""


def loads(text: str, *, max_depth: int) -> Any:
    """The value ``text`` holds: a dict, a list or a string. Maps and lists may nest at most
    ``max_depth`` deep, and a map may not give a key twice."""
    reader = _Reader(text, max_depth)
    value = reader.value(depth=0, terminators="")
    reader.skip_whitespace()
    if reader.position != len(text):
        raise JsvError(f"Unexpected {text[reader.position]!r} at position {reader.position}.")
    return value


class _Reader:
    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.position = 0
        self.max_depth = max_depth

    def value(self, *, depth: int, terminators: str) -> Any:
        self.skip_whitespace()
        if self.peek() == MAP_START:
            return self.map(depth + 1)
        if self.peek() == LIST_START:
            return self.list(depth + 1)
        return self.string(terminators)

    def map(self, depth: int) -> dict[str, Any]:
        self.enter(depth)
        result: dict[str, Any] = {}
        if self.closes(MAP_END):
            return result
        while True:
            key = self.string(KEY_END)
            self.expect(KEY_END)
            if key in result:
                raise JsvError(f"The key {key!r} is given twice.")
            result[key] = self.value(depth=depth, terminators=SEPARATOR + MAP_END)
            if not self.continues(MAP_END):
                return result

    def list(self, depth: int) -> list[Any]:
        self.enter(depth)
        result: list[Any] = []
        if self.closes(LIST_END):
            return result
        while True:
            result.append(self.value(depth=depth, terminators=SEPARATOR + LIST_END))
            if not self.continues(LIST_END):
                return result

    def string(self, terminators: str) -> str:
        self.skip_whitespace()
        if self.peek() == QUOTE:
            return self.quoted()
        start = self.position
        while self.position < len(self.text) and self.text[self.position] not in terminators:
            self.position += 1
        return self.text[start : self.position].strip()

    def quoted(self) -> str:
        self.position += 1
        parts = []
        while True:
            end = self.text.find(QUOTE, self.position)
            if end == -1:
                raise JsvError("A quoted string is not closed.")
            parts.append(self.text[self.position : end])
            if self.text.startswith(QUOTE * 2, end):
                parts.append(QUOTE)
                self.position = end + 2
            else:
                self.position = end + 1
                return "".join(parts)

    def enter(self, depth: int) -> None:
        """Step over the opening bracket of a map or list ``depth`` deep."""
        if depth > self.max_depth:
            raise JsvError(f"Nested more than {self.max_depth} deep.")
        self.position += 1

    def closes(self, end: str) -> bool:
        """Whether the map or list just opened is empty (its end is stepped over)."""
        self.skip_whitespace()
        if self.peek() == end:
            self.position += 1
            return True
        return False

    def continues(self, end: str) -> bool:
        """After an entry: ``True`` on a separator, ``False`` on ``end`` (both stepped over)."""
        self.skip_whitespace()
        if self.peek() == SEPARATOR:
            self.position += 1
            return True
        self.expect(end)
        return False

    def expect(self, char: str) -> None:
        self.skip_whitespace()
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end"
            raise JsvError(f"Expected {char!r} at position {self.position}, found {found}.")
        self.position += 1

    def peek(self) -> str:
        return self.text[self.position : self.position + 1]

    def skip_whitespace(self) -> None:
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1
