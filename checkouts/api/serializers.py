"""The request and response DTOs of the checkout API, in BokaMera's PascalCase names."""

from collections.abc import Mapping
from typing import Any

import pycountry
from django.core.validators import URLValidator
from rest_framework import serializers

from checkouts.constants import (
    DEFAULT_ARTICLE_QUANTITY,
    MAX_ARTICLE_QUANTITY,
    MAX_ARTICLES_PER_CHECKOUT,
    MAX_INTERNAL_REFERENCE_LENGTH,
    MAX_REDIRECT_URL_LENGTH,
    UI_MODE_ALIASES,
)
from checkouts.models import UiMode
from checkouts.services import ArticleOrder


class CaseInsensitiveSerializer(serializers.Serializer):
    """Binds incoming keys to fields whatever their case (``CompanyId``, ``companyId``,
    ``companyid``), as ServiceStack does. Unknown keys are ignored, as there."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            names = {name.lower(): name for name in self.fields}
            data = {names.get(str(key).lower(), key): value for key, value in data.items()}
        return super().to_internal_value(data)


class CountryCodeField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code in any case, normalised to upper case."""

    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data).upper()
        if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
            raise serializers.ValidationError(
                "Must be an ISO 3166-1 alpha-2 country code, such as SE.", code="InvalidCountryCode"
            )
        return code


class UiModeField(serializers.CharField):
    """BokaMera's hosted/embedded or Stripe's hosted_page/embedded_page, in any case."""

    def run_validation(self, data: Any = serializers.empty) -> UiMode:
        if data in (None, ""):
            return UiMode.HOSTED
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> UiMode:
        ui_mode = parse_ui_mode(super().to_internal_value(data))
        if ui_mode is None:
            raise serializers.ValidationError(
                f"Must be one of: {', '.join(UI_MODE_ALIASES)}.", code="InvalidUiMode"
            )
        return ui_mode


def parse_ui_mode(value: Any) -> UiMode | None:
    if value in (None, ""):
        return UiMode.HOSTED
    return UI_MODE_ALIASES.get(str(value).strip().lower())


class RedirectUrlField(serializers.URLField):
    """An absolute http(s) URL; blank means not given."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            allow_null=True,
            allow_blank=True,
            max_length=MAX_REDIRECT_URL_LENGTH,
            validators=[URLValidator(schemes=["http", "https"])],
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str | None:
        return super().to_internal_value(data) or None


class ArticleToCreateSerializer(CaseInsensitiveSerializer):
    """BokaMera's ``ArticleToCreate``. A missing ``Quantity`` means one."""

    ArticleId = serializers.IntegerField(source="article_id", min_value=1)
    ArticleTypeId = serializers.IntegerField(source="article_type_id", min_value=1)
    Quantity = serializers.IntegerField(
        source="quantity",
        min_value=1,
        max_value=MAX_ARTICLE_QUANTITY,
        default=DEFAULT_ARTICLE_QUANTITY,
    )

    def to_internal_value(self, data: Any) -> ArticleOrder:
        return ArticleOrder(**super().to_internal_value(data))


class CreateCheckoutRequestSerializer(CaseInsensitiveSerializer):
    """BokaMera's ``StripeV1CreateCheckout`` request."""

    CompanyId = serializers.UUIDField(source="company_id")
    CountryCode = CountryCodeField(source="country_code")
    Articles = ArticleToCreateSerializer(
        source="articles", many=True, allow_empty=False, max_length=MAX_ARTICLES_PER_CHECKOUT
    )
    InternalReferenceId = serializers.CharField(
        source="internal_reference_id", max_length=MAX_INTERNAL_REFERENCE_LENGTH
    )
    ConfirmationUrl = RedirectUrlField(source="confirmation_url")
    CancelUrl = RedirectUrlField(source="cancel_url")
    UiMode = UiModeField(source="ui_mode", required=False, default=UiMode.HOSTED)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # Checked here rather than in validate() so that it is reported
        # together with every other failing field.
        errors: dict[str, Any] = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            errors, value = dict(error.detail), None
        if isinstance(data, Mapping):
            raw = {str(key).lower(): item for key, item in data.items()}
            if parse_ui_mode(raw.get("uimode")) == UiMode.EMBEDDED and raw.get("cancelurl"):
                errors["CancelUrl"] = [
                    serializers.ErrorDetail(
                        "CancelUrl is not allowed if UiMode is embedded.", code="NotAllowed"
                    )
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return value


class BlankAsNullCharField(serializers.CharField):
    """Stored blank strings are answered as null, as Stripe answers them."""

    def to_representation(self, value: Any) -> str | None:
        return value or None


class CheckoutResponseSerializer(serializers.Serializer):
    """BokaMera's ``StripeCheckoutQueryResponse``, from a ``CheckoutResult``."""

    SessionId = serializers.CharField(source="checkout.stripe_session_id")
    Url = BlankAsNullCharField(source="checkout.url")
    Status = serializers.CharField(source="checkout.status")
    ClientSecret = serializers.CharField(source="session.client_secret")
    CustomerId = BlankAsNullCharField(source="checkout.customer_id")
    # Checkout in payment mode makes its PaymentIntent only when the customer
    # pays, and never exposes that intent's client secret to the server.
    PaymentIntentClientSecret = serializers.SerializerMethodField(method_name="no_secret")
    PaymentIntentId = BlankAsNullCharField(source="checkout.payment_intent_id")
    StripeAccount = serializers.CharField(source="checkout.connected_account_id")

    def no_secret(self, result: Any) -> None:
        return None


class CheckoutStatusRequestSerializer(CaseInsensitiveSerializer):
    """BokaMera's ``GetStripeCheckoutV1CheckoutStatus`` request."""

    CompanyId = serializers.UUIDField(source="company_id")
    SessionId = serializers.CharField(source="session_id", max_length=255)


class CheckoutStatusResponseSerializer(serializers.Serializer):
    """The status of one checkout; amounts in minor units of ``Currency``."""

    Status = serializers.CharField(source="status")
    CustomerEmail = BlankAsNullCharField(source="customer_email")
    PaymentStatus = serializers.CharField(source="payment_status")
    InternalReferenceId = serializers.CharField(source="payable.internal_reference_id")
    AmountTotal = serializers.IntegerField(source="amount_total")
    Currency = serializers.CharField(source="currency")


class WebhookReceiptSerializer(serializers.Serializer):
    """What the webhook endpoint answers Stripe (for people reading the delivery log)."""

    EventId = serializers.CharField(source="event_id")
    Outcome = serializers.CharField(source="outcome")
