"""CSV and XML for the payment log's ``QueryResponse``, as ServiceStack writes them."""

from checkouts.api.payment_log.serializers import PAYMENT_NAME, PaymentSerializer
from checkouts.api.renderers import (
    XML_LIST_ITEM_NAMES,
    ServiceStackCSVRenderer,
    ServiceStackXMLRenderer,
)


class QueryResponseCSVRenderer(ServiceStackCSVRenderer):
    """A ``QueryResponse`` is written as its ``Results``: a header row, then one row per
    result (only the header for an empty page). Errors are one row, as everywhere."""

    result_fields = tuple(PaymentSerializer().fields)

    def render(self, data, media_type=None, renderer_context=None):
        if isinstance(data, dict) and "Results" in data:
            context = {**(renderer_context or {}), "header": list(self.result_fields)}
            return super().render(data["Results"], media_type, context)
        return super().render(data, media_type, renderer_context)


class QueryResponseXMLRenderer(ServiceStackXMLRenderer):
    """Each of ``Results`` is an element named after its DTO."""

    list_item_names = {**XML_LIST_ITEM_NAMES, "Results": PAYMENT_NAME}
