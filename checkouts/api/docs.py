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
from rest_framework.permissions import AllowAny

from checkouts.api.negotiation import LenientFormatNegotiation


class PublicDocsView:
    """Needs no API key, and the API key throttle does not count it. The path says the
    format (``/openapi.json``): a mismatching ``Accept`` or ``?format=`` gets the view's
    first renderer rather than a 406."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    content_negotiation_class = LenientFormatNegotiation


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
