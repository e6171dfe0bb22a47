"""Content negotiation as ServiceStack does it, on DRF's: the format a client asks for, and
the parser its body gets."""

from django.conf import settings
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.utils.mediatypes import media_type_matches

FORMAT_PARAMETER = "format"
# Media types ServiceStack takes for the formats' own.
MEDIA_TYPE_ALIASES = {"text/xml": "application/xml"}
# How a body that is a JSON object starts, whatever Content-Type it comes with.
JSON_OBJECT_START = b"{"
JSON_WHITESPACE = b" \t\r\n"
FOUR_NUL_BYTES = b"\x00" * 4


def media_type_alias(media_type: str) -> str:
    """``media_type`` (parameters kept) under the name this service's renderers and parsers
    use: ``text/xml`` is ``application/xml``."""
    name, separator, parameters = media_type.partition(";")
    name = name.strip().lower()
    return MEDIA_TYPE_ALIASES.get(name, name) + separator + parameters


class ServiceStackNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with ServiceStack's reading of a request.

    - The format comes from the route (``.csv``, ``/csv/reply/...``), ``?format=`` or the
      ``Accept`` header, names and values in any case; ``text/xml`` means XML.
    - An unknown ``?format=`` is a 406, not a bare 404.
    - A body that is a JSON object is read as JSON, whatever its ``Content-Type`` says;
      any other body by its ``Content-Type`` (none that fits, or a charset that is no text
      encoding: 415).
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        format_name = format_suffix or requested_format(request)
        if format_name:
            renderers = self.filter_renderers(renderers, format_name.lower())
        return super().select_renderer(request, renderers)

    def filter_renderers(self, renderers, format):
        matching = [renderer for renderer in renderers if renderer.format == format.lower()]
        if not matching:
            known = ", ".join(renderer.format for renderer in renderers)
            raise NotAcceptable(f"Unknown format {format!r}; use one of: {known}.")
        return matching

    def get_accept_list(self, request):
        return [media_type_alias(token) for token in super().get_accept_list(request)]

    def select_parser(self, request, parsers):
        if not is_text_encoding(request.encoding or settings.DEFAULT_CHARSET):
            return None
        if request.body.lstrip(JSON_WHITESPACE).startswith(JSON_OBJECT_START):
            json_parsers = [parser for parser in parsers if isinstance(parser, JSONParser)]
            if json_parsers:
                return json_parsers[0]
        content_type = media_type_alias(request.content_type)
        if len(content_type) > self.max_media_type_length:
            return None
        for parser in parsers:
            if media_type_matches(parser.media_type, content_type):
                return parser
        return None


class LenientFormatNegotiation(ServiceStackNegotiation):
    """For answers whose format a client cannot get wrong (the schema at ``/openapi.json``,
    an error about the request itself): a format nothing serves gets the first renderer,
    not a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


def is_text_encoding(encoding: str) -> bool:
    """Whether ``encoding`` decodes bytes to text: ``utf-8`` does, ``base64`` (a codec
    Python knows, so Django takes it as a charset) does not."""
    try:
        # Not b"": decoding nothing succeeds whatever the codec.
        FOUR_NUL_BYTES.decode(encoding)
    except LookupError:
        return False
    except ValueError:
        pass  # a text encoding these bytes are not valid in
    return True


def requested_format(request) -> str | None:
    """The value of ``?format=``, the parameter's name in any case (``?Format=csv``)."""
    for name, value in request.query_params.items():
        if name.lower() == FORMAT_PARAMETER:
            return value
    return None
