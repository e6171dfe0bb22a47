"""The payment log's view: parse the query string, authorise, read a page."""

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkouts import selectors
from checkouts.api.payment_log.renderers import QueryResponseCSVRenderer, QueryResponseXMLRenderer
from checkouts.api.payment_log.serializers import (
    PaymentLogQuerySerializer,
    PaymentLogResponseSerializer,
)
from checkouts.api.schema.payment_log_operations import PAYMENT_LOG
from checkouts.api.views import validated_for_company


class PaymentLogView(APIView):
    """``GET /payment/stripe/v1/payments``: the company's checkouts, oldest first."""

    request_name = "StripeCheckoutPayments"
    response_name = "StripeCheckoutPaymentsQueryResponse"
    renderer_classes = (JSONRenderer, QueryResponseCSVRenderer, QueryResponseXMLRenderer)

    @PAYMENT_LOG
    def get(self, request: Request, format: str | None = None) -> Response:
        company, filters = validated_for_company(
            request, PaymentLogQuerySerializer, request.query_params
        )
        page = selectors.payment_log(company, **filters)
        return Response(PaymentLogResponseSerializer(page).data)
