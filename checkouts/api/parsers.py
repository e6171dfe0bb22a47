"""Request body parsers, as ServiceStack reads bodies: each turns one into the same plain
nested dict of field names and values.

- JSON (``BoundedJSONParser``): bounded in depth and size, and a key given twice is refused.
- Form fields (``NestedFormParser``) and ServiceStack's CSV (``ServiceStackCSVParser``):
  flat names and text values, nested by ``nest_fields`` (``Articles[0].ArticleId=1``). A
  list given as one text value (``Articles=[{ArticleId:1,ArticleTypeId:1}]``, JSV or
  JSON) is read by the field that takes it (``complex_value_from_text``).
- XML shaped like the service's own XML answers (``ServiceStackXMLParser``), read with
  defusedxml.

Which parser a body gets is decided by ``ServiceStackNegotiation.select_parser``. The query
string binds like a form, for the fields the body lacks (``request_fields``).

The CSV and XML parsers are written here, on the csv module and defusedxml, because the
parsers of djangorestframework-csv and -xml read other shapes: many CSV rows, with cells
past the header dropped unseen; XML lists of ``<list-item>``, values typed by guesswork.
"""

import csv
import io
import json
import re
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLSyntaxError

from defusedxml.ElementTree import fromstring as parse_xml
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, FormParser, JSONParser
from rest_framework.utils.json import strict_constant

from checkouts.api import jsv
from checkouts.api.negotiation import FORMAT_PARAMETER
from checkouts.api.renderers import XML_LIST_ITEM_NAMES, XML_NAMESPACE, XML_SCHEMA_INSTANCE
from checkouts.constants import MAX_BODY_NESTING_DEPTH

# Articles[0].ArticleId, Articles[0][ArticleId]
INDEXED_KEY = re.compile(r"^(?P<list>[^\[\].]+)\[(?P<index>\d+)\](?:\.|\[)(?P<field>[^\[\].]+)\]?$")
MAX_FORM_LIST_INDEX = 1000
# A request's XML root may be in ServiceStack's namespace (as this service writes its
# answers), in the one BokaMera's own service writes, or in none.
XML_REQUEST_NAMESPACES = (
    XML_NAMESPACE,
    "http://schemas.datacontract.org/2004/07/BokaMera.API.ServiceModel.Dtos",
    "",
)
XML_NIL = f"{{{XML_SCHEMA_INSTANCE}}}nil"


class BoundedJSONParser(JSONParser):
    """JSON bodies as DRF reads them (no ``NaN`` or ``Infinity``), bounded: objects and lists
    nest at most ``MAX_BODY_NESTING_DEPTH`` deep, hold at most
    ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` keys and items in all, and give no key twice."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(
                stream.read().decode(encoding),
                object_pairs_hook=_object_without_repeated_keys,
                parse_constant=strict_constant,
            )
        except RecursionError:
            raise ParseError(_too_deep("JSON")) from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        check_size(data, "JSON")
        return data


class NestedFormParser(FormParser):
    """Parses ``application/x-www-form-urlencoded`` into a plain nested dict (``nest_fields``).

    Django refuses more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields.
    """

    def parse(self, stream, media_type=None, parser_context=None) -> dict[str, Any]:
        return nest_fields(super().parse(stream, media_type, parser_context).items())


class ServiceStackCSVParser(BaseParser):
    """``text/csv`` bodies in ServiceStack's CSV form of one request: a header row of field
    names and one row of values (``nest_fields``). An empty cell is a field not given, as
    the CSV renderer writes a null. ``Articles`` is one cell in JSV, as ServiceStack writes
    a nested value (``"[{ArticleId:1,ArticleTypeId:1}]"``), or JSON, or one column per
    field (``Articles[0].ArticleId``)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> dict[str, Any]:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if encoding.lower().replace("-", "") == "utf8":
            encoding = "utf-8-sig"  # spreadsheets start their UTF-8 with a BOM
        try:
            text = stream.read().decode(encoding)
            rows = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if row]
        except (UnicodeDecodeError, csv.Error) as error:
            raise ParseError(f"CSV parse error - {error}") from error
        if len(rows) != 2:
            raise ParseError(
                f"CSV parse error - a request is a header row and one row of values, "
                f"not {len(rows)} rows."
            )
        names, values = rows
        if len(names) != len(values):
            raise ParseError(
                f"CSV parse error - the header names {len(names)} fields and the row has "
                f"{len(values)} values."
            )
        if len(set(names)) != len(names):
            raise ParseError("CSV parse error - the header names a field twice.")
        check_size(names, "CSV")
        return nest_fields(
            (name, value) for name, value in zip(names, values, strict=True) if value
        )


class ServiceStackXMLParser(BaseParser):
    """XML bodies shaped like the service's XML answers: the request DTO's name (the view's
    ``request_name``) as the root element, in ServiceStack's namespace (or BokaMera's, or
    none), one element per field, ``i:nil="true"`` for null, and a list's items as elements
    named after their DTO (``<Articles><ArticleToCreate>...``).

    Read with defusedxml, which refuses DTDs, entities and external references.
    """

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None) -> dict[str, Any]:
        try:
            root = parse_xml(stream.read(), forbid_dtd=True)
        except (XMLSyntaxError, ValueError) as error:
            raise ParseError(f"XML parse error - {error}") from error
        check_size(list(root.iter()), "XML")
        namespace, name = _split_tag(root.tag)
        expected = getattr((parser_context or {}).get("view"), "request_name", name)
        if name != expected or namespace not in XML_REQUEST_NAMESPACES:
            raise ParseError(
                f"XML parse error - the root element must be {expected}, in the namespace "
                f"{XML_NAMESPACE}."
            )
        return _xml_fields(root, depth=1)


def nest_fields(fields) -> dict[str, Any]:
    """Flat ``(name, text)`` pairs as a nested dict: indexed names (``Articles[0].ArticleId``
    or ``Articles[0][ArticleId]``) become a list of dicts under ``Articles``."""
    data: dict[str, Any] = {}
    lists: dict[str, dict[int, dict[str, str]]] = {}
    for name, value in fields:
        match = INDEXED_KEY.match(name)
        if match is None:
            data[name] = value
            continue
        index = int(match["index"])
        if index >= MAX_FORM_LIST_INDEX:
            raise ParseError(f"Field {name!r} has an index above {MAX_FORM_LIST_INDEX - 1}.")
        lists.setdefault(match["list"], {}).setdefault(index, {})[match["field"]] = value
    for name, items in lists.items():
        data[name] = [items[index] for index in sorted(items)]
    return data


def request_fields(request) -> Any:
    """What a request DTO binds: the body's fields, and the query string's for those the body
    lacks (names compared in any case, as the serializers bind them). The body wins, as in
    ServiceStack; ``format`` is never a field."""
    body = request.data
    if not isinstance(body, Mapping):
        return body
    given = {str(name).lower() for name in body}
    query = nest_fields(
        (name, value)
        for name, value in request.query_params.items()
        if name.lower() != FORMAT_PARAMETER
    )
    return {
        **{name: value for name, value in query.items() if name.lower() not in given},
        **body,
    }


def complex_value_from_text(text: str) -> Any:
    """A list or object given as one text value: JSON, or else JSV (ServiceStack's format
    for it). Raises ``ValueError`` for text that is neither."""
    try:
        value = json.loads(text, object_pairs_hook=_object_without_repeated_keys)
    except RecursionError:
        raise ValueError(_too_deep("JSON")) from None
    except ValueError:
        value = jsv.loads(text, max_depth=MAX_BODY_NESTING_DEPTH)
    check_size(value, "The value", error=ValueError)
    return value


def check_size(value: Any, what: str, *, error: type[Exception] = ParseError) -> None:
    """Refuse ``value`` if its dicts and lists nest more than ``MAX_BODY_NESTING_DEPTH`` deep
    or hold more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` keys and items in all."""
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    count = 0
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        children = list(item.values()) if isinstance(item, dict) else item
        if depth >= MAX_BODY_NESTING_DEPTH:
            raise error(_too_deep(what))
        count += len(children)
        if limit is not None and count > limit:
            raise error(
                f"{what} holds more than {limit} fields and items (DATA_UPLOAD_MAX_NUMBER_FIELDS)."
            )
        pending.extend((child, depth + 1) for child in children)


def _too_deep(what: str) -> str:
    return f"{what} nests more than {MAX_BODY_NESTING_DEPTH} levels deep."


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"The key {key!r} is given twice in one object.")
        result[key] = value
    return result


def _split_tag(tag: str) -> tuple[str, str]:
    """``{namespace}name`` as its namespace and name."""
    namespace, _, name = tag.rpartition("}")
    return namespace.removeprefix("{"), name


def _xml_fields(element: Element, depth: int) -> dict[str, Any]:
    if depth >= MAX_BODY_NESTING_DEPTH:
        raise ParseError(_too_deep("XML"))
    fields: dict[str, Any] = {}
    for child in element:
        _, name = _split_tag(child.tag)
        if name in fields:
            raise ParseError(f"XML parse error - the element {name} is given twice.")
        if child.get(XML_NIL) == "true":
            fields[name] = None
        elif name in XML_LIST_ITEM_NAMES:
            fields[name] = [_xml_fields(item, depth + 2) for item in child]
        elif len(child):
            fields[name] = _xml_fields(child, depth + 1)
        else:
            fields[name] = child.text or ""
    return fields
