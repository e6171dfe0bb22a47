"""The refund endpoint's DTOs, in BokaMera's PascalCase names."""

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from checkouts.api.serializers import (
    BlankAsNullCharField,
    CaseInsensitiveSerializer,
    CompanyIdField,
    InternalReferenceIdField,
    SessionIdField,
)
from checkouts.models import RefundReason, RefundStatus

MAX_REFUND_COMMENTS_LENGTH = 1000


@extend_schema_serializer(component_name="StripeV1CheckoutRefund")
class RefundRequestSerializer(CaseInsensitiveSerializer):
    """A refund of a paid checkout, named by its SessionId or by its InternalReferenceId.

    Field names match in any case; unknown fields are ignored.
    """

    CompanyId = CompanyIdField()
    SessionId = SessionIdField(
        required=False,
        help_text="The paid checkout session (cs_...). Either this or InternalReferenceId; "
        "with both, the session must be the reference's.",
    )
    InternalReferenceId = InternalReferenceIdField(
        required=False,
        help_text="The paid payable (booking, rebate code...): its paid checkout is refunded.",
    )
    Amount = serializers.IntegerField(
        source="amount",
        required=False,
        allow_null=True,
        min_value=1,
        help_text="How much to refund, in minor units of the checkout's currency (150.00 SEK "
        "is 15000). Optional: everything that is left to refund.",
    )
    Reason = serializers.ChoiceField(
        source="reason",
        required=False,
        allow_blank=True,
        choices=RefundReason.choices,
        help_text="Stripe's reason for the refund: requested_by_customer, duplicate or "
        "fraudulent. Optional.",
    )
    Comments = serializers.CharField(
        source="comments",
        required=False,
        allow_blank=True,
        max_length=MAX_REFUND_COMMENTS_LENGTH,
        help_text="Optional notes, kept with the refund (not sent to Stripe).",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("session_id") and not data.get("internal_reference_id"):
            raise serializers.ValidationError(
                {
                    "SessionId": serializers.ErrorDetail(
                        "SessionId or InternalReferenceId is required.", code="NotEmpty"
                    )
                }
            )
        return data


@extend_schema_serializer(component_name="StripeCheckoutRefundResponse")
class RefundResponseSerializer(serializers.Serializer):
    """The refund as it stands once Stripe has answered; amounts in minor units."""

    # Serializes a ``refunds.RefundResult``.

    RefundId = BlankAsNullCharField(
        source="refund.stripe_refund_id",
        help_text="Stripe's refund id (re_...); null if Stripe did not make it.",
    )
    Status = serializers.ChoiceField(
        choices=RefundStatus.choices,
        source="refund.status",
        help_text="Stripe's status of the refund: pending, requires_action, succeeded, failed "
        "or canceled (requested while Stripe's answer is not known).",
    )
    Amount = serializers.IntegerField(
        source="refund.amount", min_value=1, help_text="This refund, in minor units."
    )
    AmountRefunded = serializers.IntegerField(
        source="checkout.amount_refunded",
        min_value=0,
        help_text="Every refund of the checkout so far, this one included (pending ones too, "
        "failed ones not), in minor units.",
    )
    Currency = serializers.CharField(source="refund.currency", help_text="ISO 4217 (SEK).")
    SessionId = serializers.CharField(
        source="checkout.stripe_session_id", help_text="The refunded checkout session."
    )
    InternalReferenceId = serializers.CharField(
        source="checkout.payable.internal_reference_id",
        help_text="The payable (booking, rebate code...) the checkout paid for.",
    )
