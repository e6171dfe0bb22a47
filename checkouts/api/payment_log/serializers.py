"""The payment log's DTOs: its query, one result, and the ``QueryResponse``."""

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from checkouts import selectors
from checkouts.api.serializers import (
    BlankAsNullCharField,
    CaseInsensitiveSerializer,
    CompanyIdField,
    InternalReferenceIdField,
)
from checkouts.models import CheckoutStatus, PaymentStatus

PAYMENT_NAME = "StripeCheckoutPayment"
# A date-time with its offset (RFC 3339, section 5.6).
RFC_3339 = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
# A "+" left unencoded in a query string arrives as a space: "...T10:00:00 01:00".
OFFSET_AS_SPACE = re.compile(r" (\d\d:\d\d)$")


@extend_schema_field({"type": "string", "format": "date-time", "example": "2026-01-31T23:00:00Z"})
class Rfc3339DateTimeField(serializers.DateTimeField):
    """An RFC 3339 date-time, which always names its offset (``Z``, ``+01:00``)."""

    def to_internal_value(self, value: Any):
        text = OFFSET_AS_SPACE.sub(r"+\1", str(value).strip())
        if not RFC_3339.match(text):
            raise serializers.ValidationError(
                "Must be an RFC 3339 date-time with its offset, such as 2026-01-31T23:00:00Z.",
                code="InvalidDateTime",
            )
        return super().to_internal_value(text)


@extend_schema_serializer(component_name="StripeCheckoutPayments")
class PaymentLogQuerySerializer(CaseInsensitiveSerializer):
    """The payment log's query string; names match in any case."""

    CompanyId = CompanyIdField()
    CreatedFrom = Rfc3339DateTimeField(
        source="created_from",
        required=False,
        help_text="Only checkouts created at or after this RFC 3339 date-time.",
    )
    CreatedTo = Rfc3339DateTimeField(
        source="created_to",
        required=False,
        help_text="Only checkouts created before this RFC 3339 date-time.",
    )
    InternalReferenceId = InternalReferenceIdField(
        required=False, help_text="Only the checkouts of this payable (booking, rebate code...)."
    )
    PaymentStatus = serializers.ChoiceField(
        source="payment_status",
        required=False,
        choices=PaymentStatus.choices,
        help_text="Only checkouts with this payment status (paid, unpaid...).",
    )
    Skip = serializers.IntegerField(
        source="skip", required=False, min_value=0, default=0, help_text="Rows to skip."
    )
    Take = serializers.IntegerField(
        source="take",
        required=False,
        min_value=1,
        max_value=selectors.PAYMENT_LOG_MAX_TAKE,
        default=selectors.PAYMENT_LOG_DEFAULT_TAKE,
        help_text=f"Rows to return: 1 to {selectors.PAYMENT_LOG_MAX_TAKE}, default "
        f"{selectors.PAYMENT_LOG_DEFAULT_TAKE}.",
    )


@extend_schema_serializer(component_name=PAYMENT_NAME)
class PaymentSerializer(serializers.Serializer):
    """One checkout of the payment log; amounts in minor units of ``Currency``."""

    SessionId = serializers.CharField(
        source="stripe_session_id", help_text="The checkout session (cs_...)."
    )
    InternalReferenceId = serializers.CharField(
        source="payable.internal_reference_id", help_text="The payable it is for."
    )
    Status = serializers.ChoiceField(
        source="status", choices=CheckoutStatus.choices, help_text="The checkout status."
    )
    PaymentStatus = serializers.ChoiceField(
        source="payment_status", choices=PaymentStatus.choices, help_text="Whether it is paid."
    )
    AmountTotal = serializers.IntegerField(source="amount_total", min_value=0)
    AmountRefunded = serializers.IntegerField(
        source="amount_refunded",
        min_value=0,
        help_text="Refunds so far (pending ones too, failed ones not).",
    )
    ApplicationFeeAmount = serializers.IntegerField(
        source="application_fee_amount",
        allow_null=True,
        min_value=0,
        help_text="The platform's fee; null when the company takes none.",
    )
    Currency = serializers.CharField(source="currency", help_text="ISO 4217 (SEK).")
    CustomerEmail = BlankAsNullCharField(source="customer_email", help_text="Null until known.")
    PaymentIntentId = BlankAsNullCharField(
        source="payment_intent_id", help_text="The payment (pi_...); null until paid."
    )
    Created = serializers.DateTimeField(source="created_at", help_text="RFC 3339.")
    PaidAt = serializers.DateTimeField(
        source="paid_at", allow_null=True, help_text="When the payment was recorded; RFC 3339."
    )


@extend_schema_serializer(component_name="StripeCheckoutPaymentsQueryResponse")
class PaymentLogResponseSerializer(serializers.Serializer):
    """ServiceStack's ``QueryResponse`` of ``StripeCheckoutPayment``."""

    # Serializes a ``selectors.PaymentLogPage``.

    Offset = serializers.IntegerField(source="offset", min_value=0, help_text="Skip, echoed.")
    Total = serializers.IntegerField(
        source="total",
        min_value=0,
        help_text=f"How many checkouts match: exact up to Skip + "
        f"{selectors.PAYMENT_LOG_COUNT_CAP}, and that number (a lower bound, with "
        "Meta.TotalIsLowerBound) past it.",
    )
    Results = PaymentSerializer(source="results", many=True, help_text="Oldest first.")
    Meta = serializers.SerializerMethodField(
        allow_null=True, help_text='{"TotalIsLowerBound": "true"} when Total was capped.'
    )
    ResponseStatus = serializers.SerializerMethodField(
        allow_null=True, help_text="Always null in an answer that is not an error."
    )

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_Meta(self, page: selectors.PaymentLogPage) -> dict[str, str] | None:  # noqa: N802
        return {"TotalIsLowerBound": "true"} if page.total_is_lower_bound else None

    @extend_schema_field({"type": "object"})
    def get_ResponseStatus(self, page: selectors.PaymentLogPage) -> None:  # noqa: N802
        return None
