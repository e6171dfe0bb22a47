"""drf-spectacular extensions: the ``X-Api-Key`` security scheme, and the length limits of
nested lists."""

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)

from checkouts.api.authentication import API_KEY_HEADER


class CompanyApiKeyScheme(OpenApiAuthenticationExtension):
    """``CompanyApiKeyAuthentication`` is an API key in the ``X-Api-Key`` header."""

    target_class = "checkouts.api.authentication.CompanyApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": API_KEY_HEADER,
            "description": "A company's API key (`prefix.secret`), as "
            "`manage.py create_api_key COMPANY_ID` prints it. Keys are stored only as hashes.",
        }


class NestedListLengths(OpenApiSerializerFieldExtension):
    """A nested serializer with ``many=True`` documents its ``allow_empty``, ``min_length``
    and ``max_length`` as ``minItems`` and ``maxItems``; drf-spectacular leaves them out."""

    target_class = "rest_framework.serializers.ListSerializer"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        min_items = max(self.target.min_length or 0, 0 if self.target.allow_empty else 1)
        if min_items:
            schema["minItems"] = min_items
        if self.target.max_length is not None:
            schema["maxItems"] = self.target.max_length
        return schema
