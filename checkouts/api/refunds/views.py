"""The refund endpoint's view: parse, authorise, find the checkout, call the service."""

from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkouts import refunds, selectors
from checkouts.api.parsers import request_fields
from checkouts.api.refunds.serializers import RefundRequestSerializer, RefundResponseSerializer
from checkouts.api.schema.refund_operations import REFUND_CHECKOUT
from checkouts.api.views import idempotency_key_of, validated_for_company
from checkouts.models import Checkout


class RefundCheckoutView(APIView):
    """``POST /payment/stripe/v1/checkout/refund``: refund a paid checkout."""

    request_name = "StripeV1CheckoutRefund"
    response_name = "StripeCheckoutRefundResponse"

    @REFUND_CHECKOUT
    def post(self, request: Request, format: str | None = None) -> Response:
        company, fields = validated_for_company(
            request, RefundRequestSerializer, request_fields(request)
        )
        session_id = fields.pop("session_id", None)
        reference = fields.pop("internal_reference_id", None)
        try:
            checkout = selectors.checkout_to_refund(
                company, session_id=session_id, internal_reference_id=reference
            )
        except Checkout.DoesNotExist:
            named = f"SessionId {session_id}" if session_id else f"InternalReferenceId {reference}"
            raise NotFound(f"No checkout with {named} in this company.") from None
        result = refunds.refund_checkout(
            checkout=checkout,
            requester=refunds.RefundRequester.with_api_key(request.auth),
            idempotency_key=idempotency_key_of(request),
            **fields,
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        return Response(RefundResponseSerializer(result).data, headers=headers)
