"""What can go wrong when taking a payment, in the domain's words.

The API layer maps each to an HTTP status and ServiceStack's error shape;
nothing here knows about HTTP.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field_name: str
    error_code: str
    message: str


class CheckoutError(Exception):
    """Base of every refusal the service gives a caller."""

    error_code = "CheckoutError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CheckoutValidationError(CheckoutError):
    """The request names things the catalogue or the company's settings do not allow."""

    error_code = "ValidationException"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors


class StripeCheckoutNotEnabled(CheckoutError):
    error_code = "StripeCheckoutNotEnabled"


class PayableAlreadyPaid(CheckoutError):
    error_code = "AlreadyPaid"


class PaymentMethodNotAvailable(CheckoutError):
    """The company allows a payment method that Stripe cannot take in its currency."""

    error_code = "PaymentMethodNotAvailable"


class CheckoutNotPaid(CheckoutError):
    """A refund of a checkout that has no payment to refund."""

    error_code = "NotPaid"


class AmountExceedsRefundable(CheckoutError):
    """A refund of more than what is left to refund."""

    error_code = "AmountExceedsRefundable"


class IdempotencyKeyReused(CheckoutError):
    """The Idempotency-Key came before with a different request body."""

    error_code = "IdempotencyKeyReused"


class IdempotencyKeyInUse(CheckoutError):
    """The first request with this Idempotency-Key is still being served."""

    error_code = "IdempotencyKeyInUse"


class StripeGatewayError(CheckoutError):
    """Stripe did not do what was asked."""


class StripeRefused(StripeGatewayError):
    """Stripe answered and said no (a 4xx): retrying the same request will not help."""

    error_code = "StripeRequestRefused"

    def __init__(self, message: str, *, stripe_code: str | None = None) -> None:
        super().__init__(message)
        self.stripe_code = stripe_code


class StripeUnavailable(StripeGatewayError):
    """Stripe could not be reached, timed out, was overloaded or failed: worth retrying later."""

    error_code = "StripeUnavailable"


class StripeRateLimited(StripeUnavailable):
    """Stripe answered 429: too many requests for now."""


class StripeMisconfigured(StripeGatewayError):
    """Stripe refused this service itself: its key, its access to the account, or an
    idempotency key it reused. The operator must act; the client can't."""

    error_code = "PaymentServiceMisconfigured"


class InvalidWebhook(CheckoutError):
    """A webhook delivery whose signature, timestamp or body does not check out."""

    error_code = "InvalidWebhook"


class WebhooksNotConfigured(CheckoutError):
    """No STRIPE_WEBHOOK_SECRET is set, so no delivery can be verified."""

    error_code = "WebhooksNotConfigured"
