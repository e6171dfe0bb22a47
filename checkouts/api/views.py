"""HTTP endpoints of BokaMera's Stripe Checkout 1.0 API. Thin: parse, authorise, call a service."""

from uuid import UUID

from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from articles.models import Company
from checkouts import selectors, services
from checkouts.api.serializers import CheckoutResponseSerializer, CreateCheckoutRequestSerializer

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


def company_of_request(request: Request, company_id: UUID) -> Company:
    """The company ``CompanyId`` names, if the request's API key belongs to it."""
    try:
        company = selectors.company_with_stripe_settings(company_id)
    except Company.DoesNotExist:
        raise NotFound(f"No company with CompanyId {company_id}.") from None
    if request.auth.company_id != company.id:
        raise PermissionDenied("This X-Api-Key does not belong to the company in CompanyId.")
    return company


def idempotency_key_of(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise serializers.ValidationError(
            {
                IDEMPOTENCY_KEY_HEADER: serializers.ErrorDetail(
                    f"Must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters.", code="Length"
                )
            }
        )
    return key


class CreateCheckoutView(APIView):
    """``POST /payment/stripe/v1/checkout``: create a checkout for a payable entity.

    Earlier checkouts of the same ``InternalReferenceId`` are invalidated.
    """

    response_name = "StripeCheckoutQueryResponse"

    def post(self, request: Request, format: str | None = None) -> Response:
        payload = CreateCheckoutRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        company = company_of_request(request, fields.pop("company_id"))
        result = services.create_checkout(
            company=company, idempotency_key=idempotency_key_of(request), **fields
        )
        return Response(CheckoutResponseSerializer(result).data)
