"""CSV and XML renderers that write responses the way ServiceStack clients read them."""

import re
from io import StringIO
from typing import Any

from django.utils.encoding import force_str
from django.utils.xmlutils import SimplerXMLGenerator
from rest_framework_csv.renderers import CSVRenderer
from rest_framework_xml.renderers import XMLRenderer

ERROR_RESPONSE_NAME = "ErrorResponse"
XML_NAMESPACE = "http://schemas.servicestack.net/types"
XML_SCHEMA_INSTANCE = "http://www.w3.org/2001/XMLSchema-instance"
# ServiceStack names each list element after the DTO it holds.
XML_LIST_ITEM_NAMES = {"Errors": "ResponseError", "Articles": "ArticleToCreate"}
# Characters outside XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets),
# which no XML document may hold, not even escaped.
NOT_XML_CHARACTER = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT_CHARACTER = "\ufffd"
# What makes a spreadsheet read a cell as a formula (OWASP, CSV Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def response_name(data: Any, renderer_context: dict | None) -> str:
    """The DTO name of a response: the view's ``response_name``, or ServiceStack's error DTO."""
    if isinstance(data, dict) and set(data) == {"ResponseStatus"}:
        return ERROR_RESPONSE_NAME
    view = (renderer_context or {}).get("view")
    return getattr(view, "response_name", "Response")


class ServiceStackCSVRenderer(CSVRenderer):
    """One response is a header row and one data row, columns in field order, CRLF, nulls empty.

    Nested values (an error's ``ResponseStatus``) become dotted columns. A cell that a
    spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or
    a carriage return) starts with a single quote instead, as OWASP's CSV injection
    guidance says, whatever its source (a client, Stripe, an error message).
    """

    def render(self, data, media_type=None, renderer_context=None):
        renderer_context = dict(renderer_context or {})
        if isinstance(data, dict) and "header" not in renderer_context:
            renderer_context["header"] = list(self.flatten_item(data))
        return super().render(data, media_type, renderer_context)

    def tablize(self, data, header=None, labels=None):
        for row in super().tablize(data, header=header, labels=labels):
            yield [inert_cell(cell) for cell in row]


def inert_cell(cell: Any) -> Any:
    """``cell``, prefixed with a single quote if a spreadsheet would read it as a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return f"'{cell}"
    return cell


class ServiceStackXMLRenderer(XMLRenderer):
    """XML with the response DTO's name as the root, in ServiceStack's namespace.

    A null is ``i:nil="true"``, as .NET's DataContract serializer writes it. The document is
    always well-formed XML 1.0: a character XML cannot hold (a control character in a
    client's text or Stripe's) is written as U+FFFD.
    """

    list_item_names = XML_LIST_ITEM_NAMES

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return ""
        stream = StringIO()
        xml = SimplerXMLGenerator(stream, self.charset)
        xml.startDocument()
        root = response_name(data, renderer_context)
        xml.startElement(root, {"xmlns": XML_NAMESPACE, "xmlns:i": XML_SCHEMA_INSTANCE})
        self._write(xml, data)
        xml.endElement(root)
        xml.endDocument()
        return stream.getvalue()

    def _write(self, xml: SimplerXMLGenerator, data: Any, name: str = "") -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                self._element(xml, key, value)
        elif isinstance(data, list | tuple):
            for item in data:
                self._element(xml, self.list_item_names.get(name, "item"), item)
        elif isinstance(data, bool):
            xml.characters("true" if data else "false")
        else:
            xml.characters(xml_text(force_str(data)))

    def _element(self, xml: SimplerXMLGenerator, name: str, value: Any) -> None:
        if value is None:
            xml.startElement(name, {"i:nil": "true"})
        else:
            xml.startElement(name, {})
            self._write(xml, value, name)
        xml.endElement(name)


def xml_text(text: str) -> str:
    """``text`` with each character that XML 1.0 cannot hold replaced by U+FFFD."""
    return NOT_XML_CHARACTER.sub(REPLACEMENT_CHARACTER, text)
