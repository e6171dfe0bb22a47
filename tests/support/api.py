"""What tests send the service and look for on the emulator: paths, bodies, Stripe calls."""

from articles.models import ArticleType, Company

CHECKOUT_URL = "/payment/stripe/v1/checkout"
STATUS_URL = "/payment/stripe/v1/checkout/status"
REFUND_URL = "/payment/stripe/v1/checkout/refund"
PAYMENTS_URL = "/payment/stripe/v1/payments"
WEBHOOK_URL = "/payment/stripe/v1/webhook"
# BokaMera's other path for the webhook.
IPN_CALLBACK_URL = "/payment/stripe/v1/ipncallback"

# The response fields of BokaMera's StripeCheckoutQueryResponse, in the seed's order.
SEED_RESPONSE_FIELDS = [
    "SessionId",
    "Url",
    "Status",
    "ClientSecret",
    "CustomerId",
    "PaymentIntentClientSecret",
    "PaymentIntentId",
    "StripeAccount",
]

# Stripe calls, as paths the emulator records (for ``requests_to`` and ``inject_fault``).
CREATE_SESSION = r"^/v1/checkout/sessions$"
RETRIEVE_SESSION = r"^/v1/checkout/sessions/cs_[^/]+$"
EXPIRE_SESSION = r"^/v1/checkout/sessions/[^/]+/expire$"
CREATE_REFUND = r"^/v1/refunds$"


def checkout_body(company: Company, **overrides) -> dict:
    """A valid create request for ``company``; an override of None drops that field."""
    body = {
        "CompanyId": str(company.id),
        "CountryCode": "SE",
        "Articles": [{"ArticleId": 1, "ArticleTypeId": ArticleType.SERVICE, "Quantity": 1}],
        "InternalReferenceId": "booking-1001",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}
