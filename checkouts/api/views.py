"""HTTP endpoints of BokaMera's Stripe Checkout 1.0 API. Thin: parse, authorise, call a service."""

from typing import Any
from uuid import UUID

from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from articles.models import Company
from checkouts import lifecycle, selectors, services, webhooks
from checkouts.api.parsers import request_fields
from checkouts.api.schema.operations import (
    CHECKOUT_STATUS,
    CREATE_CHECKOUT,
    RECEIVE_IPN_CALLBACK,
    RECEIVE_WEBHOOK,
)
from checkouts.api.serializers import (
    CheckoutResponseSerializer,
    CheckoutStatusRequestSerializer,
    CheckoutStatusResponseSerializer,
    CreateCheckoutRequestSerializer,
    WebhookReceiptSerializer,
)
from checkouts.models import Checkout, CheckoutStatus, WebhookOutcome

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


def company_of_request(request: Request, company_id: UUID) -> Company:
    """The company ``CompanyId`` names, if the request's API key belongs to it."""
    api_key = request.auth
    if api_key.company_id == company_id:
        # Read with the key, Stripe settings included.
        return api_key.company
    if not selectors.company_exists(company_id):
        raise NotFound(f"No company with CompanyId {company_id}.")
    raise PermissionDenied("This X-Api-Key does not belong to the company in CompanyId.")


def validated_for_company(
    request: Request, serializer_class: type[serializers.Serializer], data: Any
) -> tuple[Company, dict[str, Any]]:
    """``data`` validated by ``serializer_class`` (``ValidationError`` otherwise), less its
    ``CompanyId``, and the company that names, if the request's API key is the company's."""
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    fields = dict(payload.validated_data)
    return company_of_request(request, fields.pop("company_id")), fields


def idempotency_key_of(request: Request) -> str | None:
    """The ``Idempotency-Key``: 1 to 255 printable ASCII characters, as Stripe takes them."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        message, code = f"Must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters.", "Length"
    elif not (key.isascii() and key.isprintable()):
        message, code = "Must be printable ASCII characters.", "InvalidCharacters"
    else:
        return key
    raise serializers.ValidationError(
        {IDEMPOTENCY_KEY_HEADER: serializers.ErrorDetail(message, code=code)}
    )


class CreateCheckoutView(APIView):
    """``POST /payment/stripe/v1/checkout``: create a checkout for a payable entity.

    Earlier checkouts of the same ``InternalReferenceId`` are invalidated.
    """

    request_name = "StripeV1CreateCheckout"
    response_name = "StripeCheckoutQueryResponse"

    @CREATE_CHECKOUT
    def post(self, request: Request, format: str | None = None) -> Response:
        company, fields = validated_for_company(
            request, CreateCheckoutRequestSerializer, request_fields(request)
        )
        result = services.create_checkout(
            company=company, idempotency_key=idempotency_key_of(request), **fields
        )
        # As Stripe marks a replay, so a client can tell it got the first answer again.
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        return Response(CheckoutResponseSerializer(result).data, headers=headers)


class CheckoutStatusView(APIView):
    """``POST /payment/stripe/v1/checkout/status``: the state of one checkout session.

    A checkout still open here is refreshed from Stripe first, so a payment
    shows even if its webhook never came.
    """

    request_name = "GetStripeCheckoutV1CheckoutStatus"
    response_name = "StripeCheckoutStatusQueryResponse"

    @CHECKOUT_STATUS
    def post(self, request: Request, format: str | None = None) -> Response:
        company, fields = validated_for_company(
            request, CheckoutStatusRequestSerializer, request_fields(request)
        )
        session_id = fields["session_id"]
        try:
            checkout = selectors.checkout_of_company(company, session_id)
        except Checkout.DoesNotExist:
            raise NotFound(f"No checkout with SessionId {session_id} in this company.") from None
        if checkout.status == CheckoutStatus.OPEN:
            checkout = lifecycle.refresh_checkout_from_stripe(checkout)
        return Response(CheckoutStatusResponseSerializer(checkout).data)


class StripeWebhookView(APIView):
    """``POST /payment/stripe/v1/webhook`` and ``/payment/stripe/v1/ipncallback`` (BokaMera's
    ``StripeCheckoutIpnCallBackRequest`` has both): Stripe's signed event deliveries.

    Authenticated by ``Stripe-Signature`` alone. 200: done or ignored; 400:
    not a valid delivery, never worth retrying; 503: try again later.
    """

    request_name = "StripeCheckoutIpnCallBackRequest"

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    parser_classes = ()
    renderer_classes = (JSONRenderer,)

    @RECEIVE_WEBHOOK
    def post(self, request: Request, format: str | None = None) -> Response:
        delivery = webhooks.receive_webhook(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        failed = delivery.outcome == WebhookOutcome.FAILED
        return Response(
            WebhookReceiptSerializer(delivery).data,
            status=status.HTTP_503_SERVICE_UNAVAILABLE if failed else status.HTTP_200_OK,
        )


class StripeIpnCallbackView(StripeWebhookView):
    """``POST /payment/stripe/v1/ipncallback``: the webhook at BokaMera's other path for it,
    documented as an operation of its own."""

    @RECEIVE_IPN_CALLBACK
    @RECEIVE_WEBHOOK
    def post(self, request: Request, format: str | None = None) -> Response:
        return super().post(request, format)
