"""CSV and XML renderers that write responses the way ServiceStack clients read them."""

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


def response_name(data: Any, renderer_context: dict | None) -> str:
    """The DTO name of a response: the view's ``response_name``, or ServiceStack's error DTO."""
    if isinstance(data, dict) and set(data) == {"ResponseStatus"}:
        return ERROR_RESPONSE_NAME
    view = (renderer_context or {}).get("view")
    return getattr(view, "response_name", "Response")


class ServiceStackCSVRenderer(CSVRenderer):
    """One response is a header row and one data row, columns in field order, CRLF, nulls empty.

    Nested values (an error's ``ResponseStatus``) become dotted columns.
    """

    def render(self, data, media_type=None, renderer_context=None):
        renderer_context = dict(renderer_context or {})
        if isinstance(data, dict) and "header" not in renderer_context:
            renderer_context["header"] = list(self.flatten_item(data))
        return super().render(data, media_type, renderer_context)


class ServiceStackXMLRenderer(XMLRenderer):
    """XML with the response DTO's name as the root, in ServiceStack's namespace.

    A null is ``i:nil="true"``, as .NET's DataContract serializer writes it.
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
            xml.characters(force_str(data))

    def _element(self, xml: SimplerXMLGenerator, name: str, value: Any) -> None:
        if value is None:
            xml.startElement(name, {"i:nil": "true"})
        else:
            xml.startElement(name, {})
            self._write(xml, value, name)
        xml.endElement(name)
