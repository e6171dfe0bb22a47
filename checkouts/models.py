"""Checkout records: what was sent to Stripe, what Stripe says, and what replaced what.

Models carry constraints; the workflows live in ``checkouts.services``.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from articles.models import Company
from articles.money import format_money


class UiMode(models.TextChoices):
    """BokaMera's names; ``checkouts.constants`` maps them to Stripe's."""

    HOSTED = "hosted", "Hosted"
    EMBEDDED = "embedded", "Embedded"


class CheckoutStatus(models.TextChoices):
    """Stripe's ``checkout.session.status``."""

    OPEN = "open", "Open"
    COMPLETE = "complete", "Complete"
    EXPIRED = "expired", "Expired"


class PaymentStatus(models.TextChoices):
    """Stripe's ``checkout.session.payment_status``."""

    PAID = "paid", "Paid"
    UNPAID = "unpaid", "Unpaid"
    NO_PAYMENT_REQUIRED = "no_payment_required", "No payment required"


class StripeExpiry(models.TextChoices):
    """Where ending a superseded session on Stripe has got to."""

    PENDING = "pending", "Pending"
    EXPIRED = "expired", "Expired on Stripe"
    ALREADY_COMPLETE = "already_complete", "Paid before it could be expired"


PAID_PAYMENT_STATUSES = (PaymentStatus.PAID, PaymentStatus.NO_PAYMENT_REQUIRED)
# Conditions on checkouts, for queries; ``Checkout`` has the same as properties.
IS_PAID = models.Q(status=CheckoutStatus.COMPLETE, payment_status__in=PAID_PAYMENT_STATUSES)
PAID_WHILE_SUPERSEDED = IS_PAID & models.Q(superseded_by__isnull=False)
EXPIRY_FAILING = models.Q(stripe_expiry=StripeExpiry.PENDING, stripe_expiry_attempts__gt=0)
# What expire_checkouts looks through, each kind in a partial index of its own (see
# checkouts.expiry_queues): superseded checkouts still to end on Stripe, and open
# checkouts that are not, which end once past expires_at (or older than asked).
EXPIRY_PENDING = models.Q(stripe_expiry=StripeExpiry.PENDING)
OPEN_WITHOUT_PENDING_EXPIRY = models.Q(status=CheckoutStatus.OPEN) & ~EXPIRY_PENDING
PARTLY_REFUNDED = models.Q(amount_refunded__gt=0, amount_refunded__lt=models.F("amount_total"))
FULLY_REFUNDED = models.Q(amount_refunded__gt=0, amount_refunded=models.F("amount_total"))


class Payable(models.Model):
    """The thing being paid for (a booking, a rebate code...): one company's InternalReferenceId.

    Creating a checkout locks this row. ``current_checkout`` is the checkout
    customers are meant to pay; once the payable is paid, ``paid_checkout``
    is the first checkout paid, and the current one stays that one: the
    database refuses to point a paid payable at anything else, which is what
    turns a create racing a payment into 409 ``AlreadyPaid``.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="payables")
    internal_reference_id = models.CharField(max_length=200, db_index=True)
    current_checkout = models.OneToOneField(
        "Checkout", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_checkout = models.OneToOneField(
        "Checkout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The first checkout of this payable that was paid.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The admin's list, newest first, whole or of one company.
            models.Index(fields=["created_at", "id"], name="payable_created"),
            models.Index(fields=["company", "created_at", "id"], name="payable_company_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "internal_reference_id"], name="unique_payable_per_company"
            ),
            models.CheckConstraint(
                condition=models.Q(paid_checkout__isnull=True)
                | models.Q(current_checkout=models.F("paid_checkout")),
                name="paid_payable_stays_on_its_paid_checkout",
            ),
        ]

    def __str__(self) -> str:
        return self.internal_reference_id

    @property
    def is_paid(self) -> bool:
        return self.paid_checkout_id is not None


class Checkout(models.Model):
    """One Stripe Checkout Session created for a payable, on the company's connected account.

    The session's client secret is deliberately absent: Stripe says it must
    not be stored. ``lines`` is the snapshot of the catalogue articles as they
    were charged (see ``CheckoutLine``), kept in the row itself so that a
    create writes one row.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    stripe_session_id = models.CharField(max_length=255, unique=True)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="checkouts")
    payable = models.ForeignKey(Payable, on_delete=models.PROTECT, related_name="checkouts")
    connected_account_id = models.CharField(max_length=255)
    ui_mode = models.CharField(max_length=16, choices=UiMode.choices)
    country_code = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, as requested.")
    locale = models.CharField(max_length=16, help_text="The Stripe locale derived from it.")
    currency = models.CharField(max_length=3)
    amount_total = models.PositiveBigIntegerField(help_text="Minor units of the currency.")
    application_fee_amount = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="The platform's fee sent to Stripe, in minor units; empty: none taken.",
    )
    amount_refunded = models.PositiveBigIntegerField(
        default=0,
        help_text="Refunds Stripe made or is making (pending ones too), in minor units.",
    )
    lines = models.JSONField(default=list, help_text="The articles as charged (CheckoutLine).")

    status = models.CharField(max_length=16, choices=CheckoutStatus.choices)
    payment_status = models.CharField(max_length=32, choices=PaymentStatus.choices)
    url = models.URLField(max_length=2000, blank=True, help_text="Stripe's hosted page.")
    customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    customer_email = models.EmailField(blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    success_url = models.URLField(max_length=2000, blank=True)
    cancel_url = models.URLField(max_length=2000, blank=True)
    return_url = models.URLField(max_length=2000, blank=True)
    expires_at = models.DateTimeField()

    superseded_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_checkouts",
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    stripe_expiry = models.CharField(max_length=24, choices=StripeExpiry.choices, blank=True)
    stripe_expiry_attempts = models.PositiveIntegerField(default=0)
    stripe_expiry_error = models.TextField(blank=True)
    expiry_lease_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Claimed by an expire_checkouts run until then; other runs leave it alone.",
    )
    paid_at = models.DateTimeField(
        null=True, blank=True, help_text="When this service first saw the payment."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["payable", "status"]),
            models.Index(fields=["stripe_expiry"]),
            models.Index(fields=["status", "expires_at"]),
            # The payment log: one company's checkouts in the order they were made.
            models.Index(fields=["company", "created_at", "id"], name="checkout_company_created"),
            # expire_checkouts: one company's due checkouts on one account, in claim order.
            models.Index(
                fields=["company", "connected_account_id", "created_at", "id"],
                condition=EXPIRY_PENDING,
                name="checkout_expiry_pending",
            ),
            models.Index(
                fields=["company", "connected_account_id", "expires_at", "id"],
                condition=OPEN_WITHOUT_PENDING_EXPIRY,
                name="checkout_open_by_expires_at",
            ),
            models.Index(
                fields=["company", "connected_account_id", "created_at", "id"],
                condition=OPEN_WITHOUT_PENDING_EXPIRY,
                name="checkout_open_by_created_at",
            ),
            # The admin's list, newest first: whole, and with each of its filters, so that
            # a page reads its rows off an index in order however rare the filter's rows
            # (a rare status is found by the (status, expires_at) index above).
            models.Index(fields=["created_at", "id"], name="checkout_created"),
            models.Index(
                fields=["payment_status", "created_at", "id"], name="checkout_paystate_created"
            ),
            models.Index(fields=["ui_mode", "created_at", "id"], name="checkout_ui_mode_created"),
            # The rarer filters' rows only, each under the filter's own condition, which is
            # how the planner knows the index holds exactly the rows a filter asks for.
            models.Index(
                fields=["created_at", "id"],
                condition=PARTLY_REFUNDED,
                name="checkout_partly_refunded",
            ),
            models.Index(
                fields=["created_at", "id"],
                condition=FULLY_REFUNDED,
                name="checkout_fully_refunded",
            ),
            models.Index(
                fields=["created_at", "id"],
                condition=PAID_WHILE_SUPERSEDED | EXPIRY_FAILING,
                name="checkout_needs_attention",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CheckoutStatus.values), name="checkout_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(superseded_by__isnull=True, superseded_at__isnull=True)
                | models.Q(superseded_by__isnull=False, superseded_at__isnull=False),
                name="checkout_superseded_with_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(superseded_by=models.F("id")),
                name="checkout_not_superseded_by_itself",
            ),
            # Whatever writes the rows (the API, the admin, bulk_create, a script),
            # a payable never has two checkouts a customer could still pay.
            models.UniqueConstraint(
                fields=["payable"],
                condition=models.Q(status=CheckoutStatus.OPEN, superseded_by__isnull=True),
                name="one_open_checkout_per_payable",
            ),
            models.CheckConstraint(
                condition=models.Q(application_fee_amount__isnull=True)
                | models.Q(application_fee_amount__lte=models.F("amount_total")),
                name="checkout_fee_not_above_total",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount_total")),
                name="checkout_refunds_not_above_total",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_session_id

    @property
    def amount_display(self) -> str:
        return format_money(self.amount_total, self.currency)

    @property
    def is_paid(self) -> bool:
        return (
            self.status == CheckoutStatus.COMPLETE and self.payment_status in PAID_PAYMENT_STATUSES
        )

    @property
    def paid_while_superseded(self) -> bool:
        """The customer paid a session that a newer checkout had replaced: staff should look."""
        return self.is_paid and self.superseded_by_id is not None

    @property
    def line_items(self) -> list["CheckoutLine"]:
        return [CheckoutLine.from_json(line) for line in self.lines]


@dataclass(frozen=True)
class CheckoutLine:
    """A snapshot of one catalogue article as it was charged: one entry of ``Checkout.lines``."""

    article_type: int
    article_id: int
    name: str
    quantity: int
    unit_amount: int  # minor units, VAT included
    vat_rate: Decimal

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"

    @property
    def amount_total(self) -> int:
        return self.unit_amount * self.quantity

    def to_json(self) -> dict:
        return {**vars(self), "vat_rate": str(self.vat_rate)}

    @classmethod
    def from_json(cls, line: dict) -> "CheckoutLine":
        return cls(**{**line, "vat_rate": Decimal(line["vat_rate"])})


class ClientIdempotencyKey(models.Model):
    """A client's ``Idempotency-Key``: the first request it came with, and what it made (a
    checkout, or a refund).

    Both are empty while the first request is still being served.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    checkout = models.ForeignKey(Checkout, null=True, on_delete=models.CASCADE, related_name="+")
    refund = models.ForeignKey("Refund", null=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="unique_idempotency_key"),
            models.CheckConstraint(
                condition=models.Q(checkout__isnull=True) | models.Q(refund__isnull=True),
                name="idempotency_key_made_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def answered(self) -> bool:
        """Whether the first request made what it was for (so a repeat replays it)."""
        return self.checkout_id is not None or self.refund_id is not None


class CompanyApiKey(AbstractAPIKey):
    """An ``X-Api-Key`` of one company, stored hashed by djangorestframework-api-key."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"


class RefundStatus(models.TextChoices):
    """Stripe's ``refund.status``, and this service's own states before Stripe's answer."""

    REQUESTED = "requested", "Requested (Stripe's answer not recorded yet)"
    REFUSED = "refused", "Refused by Stripe (never made)"
    PENDING = "pending", "Pending"
    REQUIRES_ACTION = "requires_action", "Requires action"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


# Refunds Stripe made or is making: Stripe counts them in a charge's amount_refunded.
MADE_REFUND_STATUSES = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED)
# Refunds that hold money back from being refunded again: those, and one asked of Stripe
# whose answer is not known yet. A failed, canceled or refused one lets it go.
HOLDING_REFUND_STATUSES = (RefundStatus.REQUESTED, *MADE_REFUND_STATUSES)


class RefundReason(models.TextChoices):
    """Stripe's ``refund.reason`` values a refund may be asked with."""

    REQUESTED_BY_CUSTOMER = "requested_by_customer", "Requested by customer"
    DUPLICATE = "duplicate", "Duplicate"
    FRAUDULENT = "fraudulent", "Fraudulent"


class RefundSource(models.TextChoices):
    """Who asked for a refund."""

    API = "api", "API key"
    ADMIN = "admin", "Staff, in the admin"
    STRIPE = "stripe", "Made on Stripe (the Dashboard)"


class Refund(models.Model):
    """A refund of a checkout's payment: asked for here (and recorded before Stripe was
    asked), or made on Stripe and learnt of from it.

    ``id`` makes the Stripe idempotency key of the request, so a request whose answer
    was lost is asked again without refunding twice.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    amount = models.PositiveBigIntegerField(help_text="Minor units of the currency.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=RefundStatus.choices)
    reason = models.CharField(max_length=32, choices=RefundReason.choices, blank=True)
    comments = models.TextField(blank=True)
    source = models.CharField(max_length=8, choices=RefundSource.choices)
    requested_by_api_key = models.ForeignKey(
        CompanyApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    refund_application_fee = models.BooleanField(
        default=False, help_text="Whether the platform's fee was asked to be refunded too."
    )
    failure_reason = models.CharField(max_length=64, blank=True, help_text="Stripe's.")
    error = models.TextField(blank=True, help_text="Why Stripe refused the request.")
    stripe_asked_at = models.DateTimeField(
        null=True, blank=True, help_text="When this service last sent the request to Stripe."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "stripe_asked_at"], name="refund_status_asked_at")
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=RefundStatus.values), name="refund_status_known"
            ),
            # Stripe's states are known from Stripe, so with its refund's id.
            models.CheckConstraint(
                condition=models.Q(status__in=[RefundStatus.REQUESTED, RefundStatus.REFUSED])
                | models.Q(stripe_refund_id__isnull=False),
                name="refund_made_on_stripe_has_its_id",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_refund_id or f"refund {self.pk}"

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)

    @property
    def stripe_idempotency_key(self) -> str:
        return f"bokacheckout-refund-{self.pk}"


class WebhookOutcome(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate (already processed)"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected (signed, but not a readable event)"


class WebhookDelivery(models.Model):
    """One signed delivery from Stripe, kept whatever became of it; staff can reprocess it.

    The payload is kept as Stripe sent it, but for its ``*_secret`` values, which are
    redacted before it is saved.
    """

    event_id = models.CharField(max_length=255, db_index=True, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    account = models.CharField(max_length=255, blank=True, help_text="The connected account.")
    payload = models.TextField(help_text="The body as Stripe sent it, secrets redacted.")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=WebhookOutcome.choices, default=WebhookOutcome.RECEIVED
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The admin's list, newest first: whole, and by outcome or event type.
            models.Index(fields=["received_at", "id"], name="delivery_received"),
            models.Index(fields=["outcome", "received_at", "id"], name="delivery_outcome_received"),
            models.Index(fields=["event_type", "received_at", "id"], name="delivery_type_received"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class ProcessedStripeEvent(models.Model):
    """The dedupe row: written in the same transaction as an event's effects, once per event."""

    event_id = models.CharField(max_length=255, unique=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.PROTECT, related_name="+")
    processed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.event_id
