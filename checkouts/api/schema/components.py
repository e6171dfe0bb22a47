"""The DTOs that only the documentation needs: no view serializes with them."""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_serializer
from rest_framework import serializers

from checkouts.api.renderers import ERROR_RESPONSE_NAME
from checkouts.api.serializers import WebhookReceiptSerializer


@extend_schema_serializer(component_name="ResponseError")
class ResponseErrorSerializer(serializers.Serializer):
    """One failing field (ServiceStack's ``ResponseError``)."""

    ErrorCode = serializers.CharField(help_text="What is wrong (NotEmpty, InvalidCountryCode...).")
    FieldName = serializers.CharField(
        help_text="The failing field, with list positions: Articles[0].ArticleId."
    )
    Message = serializers.CharField(help_text="What is wrong, for people.")


@extend_schema_serializer(component_name="ResponseStatus")
class ResponseStatusSerializer(serializers.Serializer):
    """ServiceStack's ``ResponseStatus``: what went wrong."""

    ErrorCode = serializers.CharField(
        help_text="The error (Unauthorized, NotFound, AlreadyPaid, StripeUnavailable...); for "
        "validation errors, the first failing field's."
    )
    Message = serializers.CharField(help_text="What went wrong, for people.")
    StackTrace = serializers.CharField(
        required=False, help_text="Only from a server with DEBUG on, for unexpected errors."
    )
    Errors = ResponseErrorSerializer(
        many=True, help_text="Every failing field of a validation error; empty otherwise."
    )


@extend_schema_serializer(component_name=ERROR_RESPONSE_NAME)
class ErrorResponseSerializer(serializers.Serializer):
    """Every error the service answers, in every format (ServiceStack's ``ErrorResponse``)."""

    ResponseStatus = ResponseStatusSerializer()


@extend_schema_serializer(component_name="StripeEvent")
class StripeEventSerializer(serializers.Serializer):
    """A Stripe event, exactly as Stripe sends it (only the fields this service reads)."""

    id = serializers.CharField(help_text="The event id (evt_...); each is applied once.")
    object = serializers.CharField(help_text="Always event.")
    type = serializers.CharField(
        help_text="checkout.session.completed, checkout.session.async_payment_succeeded, "
        "checkout.session.async_payment_failed or checkout.session.expired; other types "
        "are acknowledged and ignored."
    )
    account = serializers.CharField(
        required=False, help_text="The connected account (acct_...) of a Connect event."
    )
    created = serializers.IntegerField(required=False, help_text="Unix time.")
    data = serializers.DictField(
        help_text="data.object is the Checkout Session. It is fetched again from Stripe "
        "before acting, since events arrive in any order."
    )


# The webhook's 503: a delivery that was kept but failed, or an error.
WEBHOOK_RETRY_LATER = PolymorphicProxySerializer(
    component_name="StripeWebhookRetryLater",
    serializers=[WebhookReceiptSerializer, ErrorResponseSerializer],
    resource_type_field_name=None,
)
