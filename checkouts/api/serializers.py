"""The request and response DTOs of the checkout API, in BokaMera's PascalCase names."""

import threading
import unicodedata
from collections.abc import Mapping
from typing import Any

import pycountry
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Model
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

from articles.models import Article
from articles.redirect_urls import UnsafeRedirectUrl, redirect_host
from checkouts.api.parsers import complex_value_from_text
from checkouts.constants import (
    DEFAULT_ARTICLE_QUANTITY,
    MAX_ARTICLE_QUANTITY,
    MAX_ARTICLES_PER_CHECKOUT,
    MAX_INTERNAL_REFERENCE_LENGTH,
    MAX_REDIRECT_URL_LENGTH,
    MAX_SESSION_ID_LENGTH,
    UI_MODE_ALIASES,
)
from checkouts.models import CheckoutStatus, PaymentStatus, UiMode, WebhookOutcome
from checkouts.services import ArticleOrder


class CaseInsensitiveSerializer(serializers.Serializer):
    """Binds incoming keys to fields whatever their case (``CompanyId``, ``companyId``,
    ``companyid``), as ServiceStack does. Unknown keys are ignored, as there; a field
    given twice under two spellings is refused."""

    _fields_by_thread = threading.local()

    @cached_property
    def fields(self) -> BindingDict:
        """The declared fields, built once per thread and class and lent to each instance.

        DRF deep-copies every declared field, a nested serializer's too, for each new
        serializer: 0.33 ms of CPU for a create's body, against 0.09 ms lent. A thread
        serves one request at a time, so the fields of its last instance of a class are
        pointed at the new one. That is safe as long as no field is changed once built,
        and none reads its parent or context while it validates: both hold here.
        """
        built = self._fields_by_thread.__dict__
        fields = built.get(type(self))
        if fields is None:
            built[type(self)] = fields = super().fields
        else:
            fields.serializer = self
            for field in fields.values():
                field.parent = self
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            names = {name.lower(): name for name in self.fields}
            bound: dict[Any, Any] = {}
            for key, value in data.items():
                name = names.get(str(key).lower(), key)
                if name in bound:
                    raise serializers.ValidationError(
                        {name: [serializers.ErrorDetail("Given more than once.", code="Repeated")]}
                    )
                bound[name] = value
            data = bound
        return super().to_internal_value(data)


def column_maximum(model: type[Model], field_name: str) -> int:
    """The largest value that ``model.field_name``'s column holds on every database
    Django supports (PostgreSQL's ``integer`` holds less than SQLite's)."""
    internal_type = model._meta.get_field(field_name).get_internal_type()
    return BaseDatabaseOperations.integer_field_ranges[internal_type][1]


class CompanyIdField(serializers.UUIDField):
    """``CompanyId``: the company a request is for, whose X-Api-Key it must carry. A UUID,
    as text (DRF would also take a number, or ``true``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "The company id. The X-Api-Key must belong to this company.")
        super().__init__(source="company_id", **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class PlainTextField(serializers.CharField):
    """Text without control characters (nor lone surrogates), which no client needs, XML
    cannot carry and a log or a spreadsheet may act on."""

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if any(unicodedata.category(char) in ("Cc", "Cs") for char in text):
            raise serializers.ValidationError(
                "Must not contain control characters.", code="InvalidCharacters"
            )
        return text


class InternalReferenceIdField(PlainTextField):
    """``InternalReferenceId``: a payable (a booking, a rebate code...), as clients name it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            source="internal_reference_id", max_length=MAX_INTERNAL_REFERENCE_LENGTH, **kwargs
        )


class SessionIdField(PlainTextField):
    """``SessionId``: a Checkout Session's id (``cs_...``), as creating the checkout answered."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="session_id", max_length=MAX_SESSION_ID_LENGTH, **kwargs)


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z]{2}$", "example": "SE"})
class CountryCodeField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code in any case, normalised to upper case."""

    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data).upper()
        if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
            raise serializers.ValidationError(
                "Must be an ISO 3166-1 alpha-2 country code, such as SE.", code="InvalidCountryCode"
            )
        return code


@extend_schema_field({"type": "string", "enum": list(UI_MODE_ALIASES)})
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


@extend_schema_field({"type": "string", "format": "uri", "maxLength": MAX_REDIRECT_URL_LENGTH})
class RedirectUrlField(serializers.CharField):
    """An absolute http(s) URL, read as browsers read it (``redirect_host``); blank means not
    given. A backslash, whitespace, a control character, ``user@`` or a percent-encoded
    host is refused, each with its own message."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            allow_null=True,
            allow_blank=True,
            trim_whitespace=False,
            max_length=MAX_REDIRECT_URL_LENGTH,
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str | None:
        url = super().to_internal_value(data)
        if not url:
            return None
        try:
            redirect_host(url)
        except UnsafeRedirectUrl as error:
            raise serializers.ValidationError(str(error), code="invalid") from None
        return url


class TextListSerializer(serializers.ListSerializer):
    """A list that may also come as one text value, JSON or JSV, as ServiceStack reads a
    form field, a CSV cell or a query-string value
    (``Articles=[{ArticleId:1,ArticleTypeId:1}]``)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = complex_value_from_text(data)
            except ValueError as error:
                raise serializers.ValidationError(
                    {
                        "non_field_errors": [
                            serializers.ErrorDetail(
                                f"Must be a list, in JSON or JSV: {error}", code="invalid"
                            )
                        ]
                    }
                ) from None
        return super().to_internal_value(data)


@extend_schema_serializer(component_name="ArticleToCreate")
class ArticleToCreateSerializer(CaseInsensitiveSerializer):
    """BokaMera's ``ArticleToCreate``. A missing ``Quantity`` means one."""

    ArticleId = serializers.IntegerField(
        source="article_id",
        min_value=1,
        max_value=column_maximum(Article, "article_id"),
        help_text="The article's id in the company's catalogue, within its ArticleTypeId. "
        "Its price always comes from the catalogue.",
    )
    ArticleTypeId = serializers.IntegerField(
        source="article_type_id",
        min_value=1,
        max_value=column_maximum(Article, "article_type"),
        help_text="The kind of article: 1 service, 2 rebate code type, 3 gift card, "
        "4 punch ticket, 5 value card, 6 membership.",
    )
    Quantity = serializers.IntegerField(
        source="quantity",
        min_value=1,
        max_value=MAX_ARTICLE_QUANTITY,
        default=DEFAULT_ARTICLE_QUANTITY,
        help_text=f"How many of the article; optional, defaults to {DEFAULT_ARTICLE_QUANTITY}.",
    )

    class Meta:
        list_serializer_class = TextListSerializer

    def to_internal_value(self, data: Any) -> ArticleOrder:
        return ArticleOrder(**super().to_internal_value(data))


@extend_schema_serializer(component_name="StripeV1CreateCheckout")
class CreateCheckoutRequestSerializer(CaseInsensitiveSerializer):
    """BokaMera's ``StripeV1CreateCheckout`` request.

    Field names match in any case (``CompanyId``, ``companyId``, ``companyid``); unknown
    fields are ignored.
    """

    CompanyId = CompanyIdField()
    CountryCode = CountryCodeField(
        source="country_code",
        help_text="Country code for the checkout: ISO 3166-1 alpha-2, in any case (SE, se). "
        "It sets the language of Stripe's checkout page.",
    )
    Articles = ArticleToCreateSerializer(
        source="articles",
        many=True,
        allow_empty=False,
        max_length=MAX_ARTICLES_PER_CHECKOUT,
        help_text="Articles (could be services, rebate code types, etc.): "
        f"1 to {MAX_ARTICLES_PER_CHECKOUT} items, priced from the company's catalogue.",
    )
    InternalReferenceId = InternalReferenceIdField(
        help_text="An internal reference id (could be a booking, a rebate code, etc.): the "
        "payable entity. Earlier checkouts of the same reference are invalidated.",
    )
    ConfirmationUrl = RedirectUrlField(
        source="confirmation_url",
        help_text="Optional, to set your own confirmation URL after payment is completed: an "
        "absolute http(s) URL on one of the company's allowed hosts. Defaults to the company's "
        "confirmation URL. Unless it contains {CHECKOUT_SESSION_ID}, "
        "session_id={CHECKOUT_SESSION_ID} is added to its query.",
    )
    CancelUrl = RedirectUrlField(
        source="cancel_url",
        help_text="If set, Checkout displays a back button and customers will be directed to "
        "this URL if they decide to cancel payment and return to your website. This parameter "
        "is not allowed if UiMode is embedded. Same host rule as ConfirmationUrl; defaults to "
        "the company's cancel URL.",
    )
    UiMode = UiModeField(
        source="ui_mode",
        required=False,
        default=UiMode.HOSTED,
        help_text="The UI mode of the Session. Defaults to hosted. Accepts BokaMera's names "
        "(hosted, embedded) and Stripe's (hosted_page, embedded_page), case-insensitively "
        "(Hosted, EMBEDDED...).",
    )

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

    def __init__(self, **kwargs: Any) -> None:
        # Only used for output, where allow_null just documents that null is answered.
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value: Any) -> str | None:
        return value or None


@extend_schema_serializer(component_name="StripeCheckoutQueryResponse")
class CheckoutResponseSerializer(serializers.Serializer):
    """BokaMera's ``StripeCheckoutQueryResponse``: the checkout session that was created.

    A field is null where Stripe has nothing (yet).
    """

    # Serializes a ``CheckoutResult``.

    SessionId = serializers.CharField(
        source="checkout.stripe_session_id", help_text="The checkout session id (cs_...)."
    )
    Url = BlankAsNullCharField(
        source="checkout.url",
        help_text="The URL of the checkout page to send the customer to (hosted mode); "
        "null in embedded mode.",
    )
    Status = serializers.ChoiceField(
        source="checkout.status",
        choices=CheckoutStatus.choices,
        help_text="The checkout status (Stripe's session status): open when created.",
    )
    ClientSecret = serializers.CharField(
        source="session.client_secret",
        allow_null=True,
        help_text="Client secret to be used when initializing Stripe.js embedded checkout "
        "(embedded mode); null in hosted mode. It is never stored or logged.",
    )
    CustomerId = BlankAsNullCharField(
        source="checkout.customer_id",
        help_text="(ID of the Customer) The ID of the customer for this Session. For Checkout "
        "Sessions in subscription mode or Checkout Sessions with customer_creation set as always "
        "in payment mode, Checkout will create a new customer object based on information "
        "provided during the payment flow unless an existing customer was provided when the "
        "Session was created.",
    )
    # Checkout in payment mode makes its PaymentIntent only when the customer
    # pays, and never exposes that intent's client secret to the server.
    PaymentIntentClientSecret = serializers.SerializerMethodField(
        method_name="no_secret",
        allow_null=True,
        help_text="The client secret of the PaymentIntent. Always null here: in payment mode, "
        "Checkout creates its PaymentIntent only when the customer pays, and its client secret "
        "is never exposed to the server.",
    )
    PaymentIntentId = BlankAsNullCharField(
        source="checkout.payment_intent_id",
        help_text="The id of the session's PaymentIntent (pi_...); null until the customer pays.",
    )
    StripeAccount = serializers.CharField(
        source="checkout.connected_account_id",
        help_text="The company's connected Stripe account (acct_...) that the session belongs "
        "to; Stripe.js needs it to show an embedded checkout.",
    )

    @extend_schema_field(OpenApiTypes.STR)
    def no_secret(self, result: Any) -> None:
        return None


@extend_schema_serializer(component_name="GetStripeCheckoutV1CheckoutStatus")
class CheckoutStatusRequestSerializer(CaseInsensitiveSerializer):
    """BokaMera's ``GetStripeCheckoutV1CheckoutStatus`` request.

    Field names match in any case; unknown fields are ignored.
    """

    CompanyId = CompanyIdField()
    SessionId = SessionIdField(
        help_text="The checkout session id (cs_...) that creating the checkout answered."
    )


@extend_schema_serializer(component_name="StripeCheckoutStatusQueryResponse")
class CheckoutStatusResponseSerializer(serializers.Serializer):
    """The status of one checkout; amounts in minor units of ``Currency``."""

    Status = serializers.ChoiceField(
        source="status", choices=CheckoutStatus.choices, help_text="The checkout status."
    )
    CustomerEmail = BlankAsNullCharField(
        source="customer_email",
        help_text="The email the customer gave on Stripe's page; null until known.",
    )
    PaymentStatus = serializers.ChoiceField(
        source="payment_status",
        choices=PaymentStatus.choices,
        help_text="Whether the checkout is paid.",
    )
    InternalReferenceId = serializers.CharField(
        source="payable.internal_reference_id",
        help_text="The internal reference id (booking, rebate code...) the checkout pays for.",
    )
    AmountTotal = serializers.IntegerField(
        source="amount_total",
        min_value=0,
        help_text="The total, in minor units of Currency (450.00 SEK is 45000).",
    )
    Currency = serializers.CharField(
        source="currency", help_text="The currency: ISO 4217, as the company's (SEK)."
    )
    AmountRefunded = serializers.IntegerField(
        source="amount_refunded",
        min_value=0,
        help_text="Refunds so far, in minor units of Currency: those made here or on Stripe "
        "(the Dashboard), pending ones too; a refund that failed is not counted.",
    )


@extend_schema_serializer(component_name="StripeWebhookReceipt")
class WebhookReceiptSerializer(serializers.Serializer):
    """What the webhook endpoint answers Stripe (for people reading the delivery log)."""

    EventId = serializers.CharField(source="event_id", help_text="The Stripe event id (evt_...).")
    Outcome = serializers.ChoiceField(
        source="outcome",
        # A delivery is answered once processed, never while only received.
        choices=[choice for choice in WebhookOutcome.choices if choice[0] != "received"],
        help_text="What became of the delivery: processed, duplicate (already processed) or "
        "ignored (answered 200); failed (answered 503, so that Stripe delivers it again).",
    )
