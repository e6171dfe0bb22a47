"""The public pages that serve the API's description: ``/openapi.json``, ``/openapi.yaml``
and Swagger UI at ``/docs/`` (from drf-spectacular-sidecar's files, no CDN).

What the schema says is decided in ``checkouts.api.schema``.
"""

from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularSwaggerView,
    SpectacularYAMLAPIView,
)
from rest_framework.exceptions import NotAcceptable
from rest_framework.permissions import AllowAny

from checkouts.api.negotiation import StrictFormatNegotiation


class PathFormatNegotiation(StrictFormatNegotiation):
    """The path says the format (``/openapi.json``): a mismatching ``Accept`` or ``?format=``
    gets the view's first renderer rather than a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class PublicDocsView:
    """Needs no API key, and the API key throttle does not count it."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    content_negotiation_class = PathFormatNegotiation


class OpenApiJsonView(PublicDocsView, SpectacularJSONAPIView):
    """``/openapi.json``: the schema as JSON (``application/json`` unless asked for
    ``application/vnd.oai.openapi+json``)."""

    renderer_classes = [OpenApiJsonRenderer2, OpenApiJsonRenderer]


class OpenApiYamlView(PublicDocsView, SpectacularYAMLAPIView):
    """``/openapi.yaml``: the schema as YAML."""


class SwaggerDocsView(PublicDocsView, SpectacularSwaggerView):
    """``/docs/``: Swagger UI on ``/openapi.json``, from drf-spectacular-sidecar's files."""

    url_name = "openapi-json"
    title = "bokacheckout API"
