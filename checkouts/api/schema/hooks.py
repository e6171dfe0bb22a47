"""drf-spectacular's hooks (``SPECTACULAR_SETTINGS``), for what no decorator can say."""

from typing import Any

from drf_spectacular.hooks import preprocess_exclude_path_format

from checkouts.api.renderers import XML_LIST_ITEM_NAMES, XML_NAMESPACE

API_PATH_PREFIX = "/payment/stripe/v1/"
XML = "application/xml"


def only_api_endpoints(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Document the API's paths, once each: not their ``.json/.csv/.xml`` twins (the
    ``format`` parameter and the description cover those), nor other pages."""
    return [
        endpoint
        for endpoint in preprocess_exclude_path_format(endpoints)
        if endpoint[0].startswith(API_PATH_PREFIX)
    ]


def name_xml_roots(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Give each component that an XML request or answer is, its root element: the DTO's
    name in ServiceStack's namespace, as the XML renderer writes it and the XML parser
    reads it; and each list its items' element names (``<Articles><ArticleToCreate>``).

    drf-spectacular has no way to set a component's ``xml``: ``extend_schema_serializer``
    takes only ``x-`` extensions.
    """
    schemas = result["components"]["schemas"]
    for path in result["paths"].values():
        for operation in path.values():
            bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
            for body in bodies:
                reference = body.get("content", {}).get(XML, {}).get("schema", {})
                if "$ref" in reference:
                    name = reference["$ref"].rsplit("/", 1)[1]
                    schemas[name]["xml"] = {"name": name, "namespace": XML_NAMESPACE}
    for schema in schemas.values():
        for name, field in schema.get("properties", {}).items():
            if name in XML_LIST_ITEM_NAMES and field.get("type") == "array":
                field["xml"] = {"wrapped": True}
                schemas[XML_LIST_ITEM_NAMES[name]]["xml"] = {"name": XML_LIST_ITEM_NAMES[name]}
    return result
