"""Request body parsers, as ServiceStack reads bodies: each turns one into the same plain
nested dict of field names and values.

- JSON, as DRF reads it.
- Form fields (``NestedFormParser``) and ServiceStack's CSV (``ServiceStackCSVParser``):
  flat names and text values, nested by ``nest_fields`` (``Articles[0].ArticleId=1``). A
  list given as one text value (``Articles=[{ArticleId:1,ArticleTypeId:1}]``, JSV or
  JSON) is read by the field that takes it (``complex_value_from_text``).
- XML shaped like the service's own XML answers (``ServiceStackXMLParser``), read with
  defusedxml.

Which parser a body gets is decided by ``ServiceStackNegotiation.select_parser``. The query
string binds like a form, for the fields the body lacks (``request_fields``).
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
from rest_framework.parsers import BaseParser, FormParser

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


class NestedFormParser(FormParser):
    """Parses ``application/x-www-form-urlencoded`` into a plain nested dict (``nest_fields``)."""

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
        return json.loads(text)
    except ValueError:
        return jsv.loads(text, max_depth=MAX_BODY_NESTING_DEPTH)


def _too_deep(what: str) -> str:
    return f"{what} nests more than {MAX_BODY_NESTING_DEPTH} levels deep."


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
