"""The catalogue: companies, their Stripe Checkout settings, and what they sell."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from articles.money import (
    InexactAmountError,
    is_iso_currency,
    smallest_stripe_amount,
    to_stripe_amount,
)
from articles.payment_methods import (
    describe_unavailable,
    parse_payment_methods,
    unavailable_in,
    unknown_payment_methods,
)
from articles.redirect_urls import UnsafeRedirectUrl, host_name, redirect_host

WILDCARD_PREFIX = "*."

MIN_CHECKOUT_LIFETIME_MINUTES = 30
MAX_CHECKOUT_LIFETIME_MINUTES = 24 * 60
PLATFORM_FEE_AMOUNT_FIELDS = ("platform_fee_fixed", "platform_fee_minimum", "platform_fee_maximum")


def validate_iso_currency(value: str) -> None:
    if not is_iso_currency(value) or value != value.upper():
        raise ValidationError(f"{value!r} is not an upper-case ISO 4217 currency code.")


def validate_payment_methods(value: str) -> None:
    unknown = unknown_payment_methods(parse_payment_methods(value))
    if unknown:
        raise ValidationError(f"Unknown payment method(s): {', '.join(unknown)}.")


class Company(models.Model):
    """A BokaMera company; its primary key is the API's ``CompanyId``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    currency = models.CharField(
        max_length=3, validators=[validate_iso_currency], help_text="ISO 4217, e.g. SEK."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StripeCheckoutSettings(models.Model):
    """A company's "Stripe Checkout 1.0" settings; without them enabled it cannot take payments."""

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, primary_key=True, related_name="stripe_settings"
    )
    enabled = models.BooleanField(default=False)
    connected_account_id = models.CharField(
        max_length=255,
        validators=[
            RegexValidator(r"^acct_[A-Za-z0-9]+$", "Expected a Stripe account id, acct_...")
        ],
        help_text="The company's own Stripe account (Stripe Connect).",
    )
    default_confirmation_url = models.URLField(max_length=2000)
    default_cancel_url = models.URLField(max_length=2000, blank=True)
    allowed_redirect_hosts = models.TextField(
        blank=True,
        help_text=(
            "Hosts that ConfirmationUrl and CancelUrl may point to, one per line; "
            "*.example.com allows subdomains. The default URLs' hosts are always allowed."
        ),
    )
    checkout_lifetime_minutes = models.PositiveIntegerField(
        default=60,
        validators=[
            MinValueValidator(MIN_CHECKOUT_LIFETIME_MINUTES),
            MaxValueValidator(MAX_CHECKOUT_LIFETIME_MINUTES),
        ],
        help_text="How long a checkout stays payable: 30 minutes to 24 hours (Stripe's limits).",
    )

    # Payment methods: Stripe's dynamic payment methods unless one of these is set.
    allowed_payment_methods = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_payment_methods],
        help_text="The only methods customers may pay with, comma-separated (card,swish); each "
        "must take the company's currency. Empty: Stripe's dynamic payment methods.",
    )
    payment_method_configuration = models.CharField(
        max_length=255,
        blank=True,
        validators=[RegexValidator(r"^pmc_[A-Za-z0-9]+$", "Expected a pmc_... id.")],
        help_text="A payment method configuration of the company's Stripe account (pmc_...); "
        "not together with allowed payment methods.",
    )

    # The platform's fee on each checkout (Stripe's application_fee_amount).
    platform_fee_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent of the total, e.g. 2.50; rounded half up to a minor unit.",
    )
    platform_fee_fixed = models.PositiveBigIntegerField(
        default=0, help_text="Added to the percent part, in minor units of the currency."
    )
    platform_fee_minimum = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The least fee, in minor units; empty: none."
    )
    platform_fee_maximum = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The largest fee, in minor units; empty: none."
    )
    refund_application_fee = models.BooleanField(
        default=False,
        help_text="Whether a refund also gives back the platform's fee, in proportion.",
    )

    class Meta:
        verbose_name = "Stripe Checkout settings"
        verbose_name_plural = "Stripe Checkout settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    checkout_lifetime_minutes__gte=MIN_CHECKOUT_LIFETIME_MINUTES,
                    checkout_lifetime_minutes__lte=MAX_CHECKOUT_LIFETIME_MINUTES,
                ),
                name="checkout_lifetime_within_stripe_limits",
            ),
            # Stripe takes one or the other, never both.
            models.CheckConstraint(
                condition=models.Q(allowed_payment_methods="")
                | models.Q(payment_method_configuration=""),
                name="payment_methods_listed_or_configured",
                violation_error_message="Name the allowed payment methods or a payment method "
                "configuration, not both.",
            ),
            models.CheckConstraint(
                condition=models.Q(platform_fee_percent__gte=0, platform_fee_percent__lte=100),
                name="platform_fee_percent_is_a_percent",
            ),
            models.CheckConstraint(
                condition=models.Q(platform_fee_minimum__isnull=True)
                | models.Q(platform_fee_maximum__isnull=True)
                | models.Q(platform_fee_minimum__lte=models.F("platform_fee_maximum")),
                name="platform_fee_minimum_not_above_maximum",
                violation_error_message="The fee's minimum is above its maximum.",
            ),
        ]

    def __str__(self) -> str:
        return f"Stripe Checkout settings of {self.company}"

    @property
    def checkout_lifetime(self) -> timedelta:
        return timedelta(minutes=self.checkout_lifetime_minutes)

    @property
    def payment_method_types(self) -> list[str]:
        """The methods the company allows, as Stripe names them; empty: Stripe's choice."""
        return parse_payment_methods(self.allowed_payment_methods)

    def payment_methods_unavailable(self, currency: str) -> list[str]:
        """The allowed methods that Stripe cannot take in ``currency``."""
        return unavailable_in(currency, self.payment_method_types)

    @property
    def takes_platform_fee(self) -> bool:
        return bool(
            self.platform_fee_percent or self.platform_fee_fixed or self.platform_fee_minimum
        )

    def clean(self) -> None:
        self.allowed_payment_methods = ",".join(self.payment_method_types)
        if self.company_id is None:
            return
        currency = self.company.currency
        errors = {}
        unavailable = self.payment_methods_unavailable(currency)
        if unavailable:
            errors["allowed_payment_methods"] = describe_unavailable(currency, unavailable)
        step = smallest_stripe_amount(currency)
        for name in PLATFORM_FEE_AMOUNT_FIELDS:
            amount = getattr(self, name)
            if amount is not None and amount % step:
                errors[name] = f"Stripe charges {currency} in steps of {step} minor units."
        if errors:
            raise ValidationError(errors)

    def redirect_host_patterns(self) -> list[str]:
        """The allowed hosts, as ``redirect_host`` writes them (``*.`` kept)."""
        patterns = []
        for line in self.allowed_redirect_hosts.splitlines():
            line = line.strip()
            wildcard = line.startswith(WILDCARD_PREFIX)
            host = host_name(line.removeprefix(WILDCARD_PREFIX)) if line else None
            if host:
                patterns.append(WILDCARD_PREFIX + host if wildcard else host)
        for url in (self.default_confirmation_url, self.default_cancel_url):
            try:
                patterns.append(redirect_host(url))
            except UnsafeRedirectUrl:
                continue
        return patterns

    def allows_redirect_to(self, url: str) -> bool:
        """Whether a browser sent to ``url`` lands on one of the allowed hosts (read as
        browsers read URLs: ``redirect_host``)."""
        try:
            host = redirect_host(url)
        except UnsafeRedirectUrl:
            return False
        for pattern in self.redirect_host_patterns():
            if pattern.startswith(WILDCARD_PREFIX) and host.endswith(pattern[1:]):
                return True
            if host == pattern:
                return True
        return False


class ArticleType(models.IntegerChoices):
    """BokaMera's ``ArticleTypeId``: what kind of thing is being paid for."""

    SERVICE = 1, "Service"
    REBATE_CODE_TYPE = 2, "Rebate code type"
    GIFT_CARD = 3, "Gift card"
    PUNCH_TICKET = 4, "Punch ticket"
    VALUE_CARD = 5, "Value card"
    MEMBERSHIP = 6, "Membership"
    PRODUCT = 7, "Product"


class Article(models.Model):
    """Something a company sells, addressed by clients as (ArticleTypeId, ArticleId)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="articles")
    article_type = models.PositiveSmallIntegerField(choices=ArticleType.choices)
    article_id = models.PositiveIntegerField(help_text="The id BokaMera clients send as ArticleId.")
    name = models.CharField(max_length=250)
    unit_amount = models.PositiveBigIntegerField(
        help_text="Price including VAT, in minor units of the company currency (öre, cents, yen)."
    )
    vat_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent, e.g. 25.00.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["company", "article_type", "article_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "article_type", "article_id"], name="unique_article_per_company"
            ),
            models.CheckConstraint(
                condition=models.Q(vat_rate__gte=0, vat_rate__lte=100), name="vat_rate_is_a_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_article_type_display()} {self.article_id})"

    def clean(self) -> None:
        if self.company_id is None or self.unit_amount is None:
            return
        try:
            to_stripe_amount(self.unit_amount, self.company.currency)
        except InexactAmountError as error:
            raise ValidationError(
                {"unit_amount": f"Stripe cannot charge this amount in {self.company.currency}."}
            ) from error
