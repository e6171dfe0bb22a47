"""Staff's view of payments: browse and search everything, edit nothing by hand.

Checkouts, payables and webhook deliveries are payment records, so no form
changes or deletes them. Staff act on them only through the actions, which
ask Stripe (or re-run a delivery) and record the answer; those need the
model's ``change`` permission, while ``view`` is enough to browse.
"""

import csv
import json
from collections.abc import Iterable, Iterator

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from articles.models import ArticleType
from articles.money import currency_exponent, format_money, to_major_units
from bokacheckout.paginators import EstimatedCountPaginator
from checkouts import refunds
from checkouts.api.payment_log.renderers import QueryResponseCSVRenderer
from checkouts.api.payment_log.serializers import PaymentSerializer
from checkouts.exceptions import CheckoutError, StripeGatewayError
from checkouts.lifecycle import ExpiryOutcome, expire_checkout_now, refresh_checkout_from_stripe
from checkouts.models import (
    EXPIRY_FAILING,
    FULLY_REFUNDED,
    PAID_WHILE_SUPERSEDED,
    PARTLY_REFUNDED,
    Checkout,
    CheckoutStatus,
    CompanyApiKey,
    Payable,
    Refund,
    RefundReason,
    RefundSource,
    WebhookDelivery,
    WebhookOutcome,
)
from checkouts.refunds import RefundRequester, amount_held_by_refunds
from checkouts.selectors import in_creation_order, payables_with_reference
from checkouts.webhooks import HANDLED_EVENT_TYPES, process_delivery

# A search term with one of these prefixes is that Stripe id, looked up exactly.
STRIPE_ID_FIELDS = {"cs_": "stripe_session_id", "pi_": "payment_intent_id", "cus_": "customer_id"}

# Enough of an id to tell rows apart at a glance; a list at 1280 px has no room for the
# whole of one (a session id is 66 characters). The detail page shows it whole.
SHORTENED_ID_LENGTH = 14

EXPIRY_LEVELS = {
    ExpiryOutcome.EXPIRED: messages.SUCCESS,
    ExpiryOutcome.ALREADY_COMPLETE: messages.WARNING,
    ExpiryOutcome.ALREADY_EXPIRED: messages.WARNING,
    ExpiryOutcome.FAILED: messages.ERROR,
}

DELIVERY_LEVELS = {
    WebhookOutcome.PROCESSED: messages.SUCCESS,
    WebhookOutcome.DUPLICATE: messages.INFO,
    WebhookOutcome.IGNORED: messages.WARNING,
    WebhookOutcome.FAILED: messages.ERROR,
}


def has_model_permission(request: HttpRequest, action: str, model) -> bool:
    opts = model._meta
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")


def shortened_id(stripe_id: str) -> str:
    """``cs_test_a1U7lB…``: a Stripe id cut to fit a list column, whole in its tooltip."""
    if len(stripe_id) <= SHORTENED_ID_LENGTH:
        return stripe_id
    return format_html('<span title="{}">{}…</span>', stripe_id, stripe_id[:SHORTENED_ID_LENGTH])


def describe_state(checkout: Checkout) -> str:
    """``complete (paid)``, ``open (unpaid)``..."""
    status = checkout.get_status_display().lower()
    return f"{status} ({checkout.get_payment_status_display().lower()})"


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record kept as it happened: shown to staff with ``view`` or ``change``, never edited.

    ``has_change_permission`` is False for everyone so every form is
    read-only; the model's ``change`` permission instead grants the actions.

    These tables grow to millions of rows, so a list never counts them all: the count
    is PostgreSQL's estimate past ``EXACT_COUNT_UP_TO`` rows, there is no total beside
    a filtered count and no per-choice counts (facets), and a list sorts only by the
    columns in ``sortable_by``, each of which an index keeps in order, alone and with
    each filter.
    """

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def may_act(self, request: HttpRequest) -> bool:
        return has_model_permission(request, "change", self.model)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ConditionsFilter(admin.SimpleListFilter):
    """A filter whose choices are named conditions: ``conditions`` maps each value to its
    label and its ``Q``."""

    conditions: dict[str, tuple[str, Q]] = {}

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.conditions.items()]

    def queryset(self, request, queryset):
        if self.value() in self.conditions:
            _, condition = self.conditions[self.value()]
            return queryset.filter(condition)
        return queryset


class NeedsAttentionFilter(ConditionsFilter):
    title = "needs attention"
    parameter_name = "attention"
    conditions = {
        "any": ("Any reason", PAID_WHILE_SUPERSEDED | EXPIRY_FAILING),
        "paid_while_superseded": ("Paid while superseded", PAID_WHILE_SUPERSEDED),
        "expiry_failing": ("Expiry on Stripe failing", EXPIRY_FAILING),
    }


# --- Refunds, the platform's fee and the payment log ------------------------------------


class RefundInline(ReadOnlyInline):
    model = Refund
    verbose_name_plural = "refunds, newest first"
    fields = [
        "stripe_refund_id",
        "amount",
        "status",
        "reason",
        "comments",
        "requested_by",
        "failure_reason",
        "error",
        "created_at",
    ]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # A refund is part of its checkout's record: whoever may see the one sees the other.
        return has_model_permission(request, "view", Checkout) or has_model_permission(
            request, "change", Checkout
        )

    @admin.display(description="Amount")
    def amount(self, refund: Refund) -> str:
        return refund.amount_display

    @admin.display(description="Asked by")
    def requested_by(self, refund: Refund) -> str:
        return describe_requester(refund)


def describe_requester(refund: Refund) -> str:
    """``API key Vd3kq1Yx (booking widget)``, ``staff user demo``, ``Stripe (the Dashboard)``."""
    if refund.source == RefundSource.API and refund.requested_by_api_key is not None:
        key = refund.requested_by_api_key
        return f"API key {key.prefix} ({key.name})"
    if refund.source == RefundSource.ADMIN and refund.requested_by_user is not None:
        return f"staff user {refund.requested_by_user.get_username()}"
    return refund.get_source_display()


class RefundedFilter(ConditionsFilter):
    title = "refunded"
    parameter_name = "refunded"
    conditions = {
        "none": ("Not refunded", Q(amount_refunded=0)),
        "partly": ("Partly", PARTLY_REFUNDED),
        "fully": ("Fully", FULLY_REFUNDED),
    }


class StaffRefundForm(forms.Form):
    """The "Refund…" page: how much (in major units, as staff read prices), and why."""

    amount = forms.DecimalField(min_value=0, help_text="In the checkout's currency.")
    reason = forms.ChoiceField(choices=[("", "—"), *RefundReason.choices], required=False)
    comments = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, checkout: Checkout, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.checkout = checkout

    def clean_amount(self) -> int:
        """The amount in minor units of the checkout's currency."""
        decimals = currency_exponent(self.checkout.currency)
        amount = self.cleaned_data["amount"].scaleb(decimals)
        if amount != amount.to_integral_value():
            raise forms.ValidationError(
                f"{self.checkout.currency} has {decimals} decimals at most."
            )
        if amount < 1:
            raise forms.ValidationError("Refund at least one minor unit.")
        return int(amount)


class CheckoutRefundsAdmin:
    """What the checkout pages show of refunds and the fee: the refunds inline, the
    "refunded" filter, the "Refund…" action, and the payment log's CSV export."""

    refund_template = "admin/checkouts/checkout/refund.html"
    change_list_template = "admin/checkouts/checkout/change_list.html"

    def get_list_filter(self, request: HttpRequest):
        return [*super().get_list_filter(request), RefundedFilter]

    def get_inlines(self, request: HttpRequest, obj=None):
        return [*super().get_inlines(request, obj), RefundInline]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        money = ("Fee and refunds", {"fields": ["platform_fee", "refunded"]})
        return [*super().get_fieldsets(request, obj), money]

    @admin.display(description="Platform fee")
    def platform_fee(self, checkout: Checkout) -> str:
        return format_money(checkout.application_fee_amount, checkout.currency) or "none"

    @admin.display(description="Refunded")
    def refunded(self, checkout: Checkout) -> str:
        return format_money(checkout.amount_refunded, checkout.currency)

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return self.may_act(request)

    @admin.action(description="Refund…", permissions=["refund"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Checkout]):
        """Asks how much on a page of its own, then refunds one paid checkout."""
        checkouts = list(queryset.select_related("payable", "company__stripe_settings")[:2])
        if len(checkouts) != 1:
            self.message_user(request, "Choose one checkout to refund.", messages.WARNING)
            return None
        (checkout,) = checkouts
        if not checkout.is_paid:
            self.message_user(request, f"{checkout}: not paid, nothing to refund.", messages.ERROR)
            return None
        if "apply" not in request.POST:
            left = checkout.amount_total - amount_held_by_refunds(checkout)
            form = StaffRefundForm(
                checkout=checkout, initial={"amount": to_major_units(left, checkout.currency)}
            )
            return self._refund_page(request, checkout, form, left)
        form = StaffRefundForm(request.POST, checkout=checkout)
        if not form.is_valid():
            left = checkout.amount_total - amount_held_by_refunds(checkout)
            return self._refund_page(request, checkout, form, left)
        try:
            result = refunds.refund_checkout(
                checkout=checkout,
                requester=RefundRequester.staff(request.user),
                **form.cleaned_data,
            )
        except (CheckoutError, DatabaseError) as error:
            self.message_user(request, f"{checkout}: not refunded: {error}", messages.ERROR)
            return None
        refund = result.refund
        self.message_user(
            request,
            f"{checkout}: {refund.amount_display} refund {refund.get_status_display().lower()}"
            f" ({refund}); {self.refunded(result.checkout)} refunded in all.",
            messages.SUCCESS,
        )
        return None

    def _refund_page(self, request, checkout: Checkout, form: StaffRefundForm, left: int):
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund {checkout.payable}",
            "opts": self.model._meta,
            "checkout": checkout,
            "form": form,
            "paid": checkout.amount_display,
            "left": format_money(left, checkout.currency),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, self.refund_template, context)

    def get_urls(self):
        export = path(
            "export-payment-log/",
            self.admin_site.admin_view(self.export_payment_log),
            name="checkouts_checkout_export_payment_log",
        )
        return [export, *super().get_urls()]

    def export_payment_log(self, request: HttpRequest) -> StreamingHttpResponse:
        """The checkouts the list shows (its filters and search), as the payment log's CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        checkouts = self.get_changelist_instance(request).get_queryset(request)
        rows = in_creation_order(checkouts.select_related("payable"))
        response = StreamingHttpResponse(payment_log_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="payment-log.csv"'
        return response


def payment_log_csv(checkouts: Iterable[Checkout]) -> Iterator[str]:
    """The payment log's CSV (the API's columns), a line at a time."""
    buffer = _LineBuffer()
    writer = csv.writer(buffer)
    writer.writerow(QueryResponseCSVRenderer.result_fields)
    yield buffer.take()
    for checkout in checkouts:
        writer.writerow(PaymentSerializer(checkout).data.values())
        yield buffer.take()


class _LineBuffer:
    """What ``csv.writer`` writes, kept until taken."""

    def __init__(self) -> None:
        self._written: list[str] = []

    def write(self, text: str) -> None:
        self._written.append(text)

    def take(self) -> str:
        text, self._written = "".join(self._written), []
        return text


class PayableRefundsAdmin:
    """The refunds of every checkout of a payable, on its page."""

    def get_fields(self, request: HttpRequest, obj=None):
        return [*super().get_fields(request, obj), "refunds_table"]

    @admin.display(description="Refunds")
    def refunds_table(self, payable: Payable) -> str:
        refunds_of_payable = Refund.objects.filter(checkout__payable=payable).select_related(
            "checkout", "requested_by_api_key", "requested_by_user"
        )
        rows = [
            [
                refund.checkout,
                refund,
                refund.amount_display,
                refund.get_status_display(),
                describe_requester(refund),
                refund.created_at,
            ]
            for refund in refunds_of_payable
        ]
        if not rows:
            return "none"
        return html_table(["Session", "Refund", "Amount", "Status", "Asked by", "Created"], rows)


def html_table(columns: list[str], rows: list[list]) -> str:
    """A table of ``rows`` under a header of ``columns``, every cell escaped."""

    def cells(tag: str, values: list) -> str:
        return format_html_join("", f"<{tag}>{{}}</{tag}>", ((value,) for value in values))

    header = format_html("<tr>{}</tr>", cells("th", columns))
    body = format_html_join("", "<tr>{}</tr>", ((cells("td", row),) for row in rows))
    return format_html("<table><thead>{}</thead><tbody>{}</tbody></table>", header, body)


@admin.register(Checkout)
class CheckoutAdmin(CheckoutRefundsAdmin, ReadOnlyAdmin):
    list_display = ["session", "reference", "status", "payment_status", "amount", "created"]
    list_filter = ["status", "payment_status", "ui_mode", NeedsAttentionFilter, "created_at"]
    list_select_related = ["payable", "company"]
    sortable_by = ["created"]
    search_fields = ["payable__internal_reference_id__exact"]
    search_help_text = "A whole internal reference, or a whole cs_…, pi_… or cus_… id."
    date_hierarchy = "created_at"
    raw_id_fields = ["payable", "company", "superseded_by"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "stripe_session_id",
                    "payable",
                    "company",
                    "connected_account_id",
                    "status",
                    "payment_status",
                    "amount",
                    "paid_at",
                ]
            },
        ),
        ("Lines", {"fields": ["lines_table"]}),
        ("Customer", {"fields": ["customer_id", "customer_email", "payment_intent_id"]}),
        (
            "Session",
            {
                "fields": [
                    "id",
                    "ui_mode",
                    "country_code",
                    "locale",
                    "url",
                    "success_url",
                    "cancel_url",
                    "return_url",
                    "created_at",
                    "expires_at",
                    "updated_at",
                ]
            },
        ),
        (
            "Superseding",
            {
                "fields": [
                    "superseded_by",
                    "superseded_at",
                    "stripe_expiry",
                    "stripe_expiry_attempts",
                    "stripe_expiry_error",
                    "expiry_lease_until",
                ]
            },
        ),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]
    actions = ["expire_on_stripe", "refresh_from_stripe", "refund"]

    @admin.display(description="Session", ordering="stripe_session_id")
    def session(self, checkout: Checkout) -> str:
        return shortened_id(checkout.stripe_session_id)

    @admin.display(description="Created", ordering="created_at")
    def created(self, checkout: Checkout):
        return checkout.created_at

    @admin.display(description="Reference", ordering="payable__internal_reference_id")
    def reference(self, checkout: Checkout) -> str:
        return checkout.payable.internal_reference_id

    @admin.display(description="Amount", ordering="amount_total")
    def amount(self, checkout: Checkout) -> str:
        return checkout.amount_display

    @admin.display(description="Lines")
    def lines_table(self, checkout: Checkout) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}%</td></tr>",
            (
                (
                    line.name,
                    ArticleType(line.article_type).label,
                    line.article_id,
                    line.quantity,
                    format_money(line.unit_amount, checkout.currency),
                    format_money(line.amount_total, checkout.currency),
                    line.vat_rate,
                )
                for line in checkout.line_items
            ),
        )
        return format_html(
            "<table><thead><tr><th>Name</th><th>Article</th><th>Quantity</th>"
            "<th>Unit price</th><th>Total</th><th>VAT</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    def get_search_results(self, request, queryset, search_term):
        # One indexed column per kind of term, rather than OR-ing every field and the
        # payable join for each word of it.
        term = search_term.strip()
        if not term:
            return queryset, False
        for prefix, field in STRIPE_ID_FIELDS.items():
            if term.startswith(prefix):
                return queryset.filter(**{field: term}), False
        return queryset.filter(payable__in=payables_with_reference(term)), False

    def has_expire_permission(self, request: HttpRequest) -> bool:
        return self.may_act(request)

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        return self.may_act(request)

    @admin.action(description="Expire on Stripe", permissions=["expire"])
    def expire_on_stripe(self, request: HttpRequest, queryset: QuerySet[Checkout]) -> None:
        for checkout in queryset:
            if checkout.status != CheckoutStatus.OPEN:
                self.message_user(
                    request,
                    f"{checkout}: skipped, it is {checkout.get_status_display().lower()}",
                    messages.WARNING,
                )
                continue
            try:
                outcome = expire_checkout_now(checkout)
            except (StripeGatewayError, DatabaseError) as error:
                self.message_user(request, f"{checkout}: failed: {error}", messages.ERROR)
                continue
            # Recording may have gone through a fresh copy of the row.
            checkout.refresh_from_db()
            self.message_user(
                request,
                f"{checkout}: {self._expiry_report(checkout, outcome)}",
                EXPIRY_LEVELS[outcome],
            )

    @staticmethod
    def _expiry_report(checkout: Checkout, outcome: ExpiryOutcome) -> str:
        if outcome == ExpiryOutcome.ALREADY_COMPLETE:
            return f"{outcome} ({checkout.get_payment_status_display().lower()})"
        if outcome == ExpiryOutcome.FAILED:
            return f"{outcome}: {checkout.stripe_expiry_error}"
        return str(outcome)

    @admin.action(description="Refresh from Stripe", permissions=["refresh"])
    def refresh_from_stripe(self, request: HttpRequest, queryset: QuerySet[Checkout]) -> None:
        for checkout in queryset:
            try:
                refreshed = refresh_checkout_from_stripe(checkout)
            except (StripeGatewayError, DatabaseError) as error:
                self.message_user(request, f"{checkout}: failed: {error}", messages.ERROR)
                continue
            if refreshed.paid_while_superseded:
                self.message_user(
                    request,
                    f"{refreshed}: {describe_state(refreshed)}, paid while superseded",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request, f"{refreshed}: {describe_state(refreshed)}", messages.SUCCESS
                )


class CheckoutInline(ReadOnlyInline):
    model = Checkout
    verbose_name_plural = "sessions, newest first"
    fields = [
        "status",
        "payment_status",
        "amount",
        "line_summary",
        "ui_mode",
        "created_at",
        "expires_at",
        "stripe_expiry",
    ]
    readonly_fields = fields
    ordering = ["-created_at"]
    show_change_link = True

    @admin.display(description="Amount")
    def amount(self, checkout: Checkout) -> str:
        return checkout.amount_display

    @admin.display(description="Lines")
    def line_summary(self, checkout: Checkout) -> str:
        return ", ".join(str(line) for line in checkout.line_items)


@admin.register(Payable)
class PayableAdmin(PayableRefundsAdmin, ReadOnlyAdmin):
    list_display = ["reference", "current_session", "current_status", "paid", "sessions", "created"]
    list_filter = ["company"]
    list_select_related = ["company", "current_checkout"]
    sortable_by = ["reference", "created"]
    # Also what autocomplete widgets pointing at payables search.
    search_fields = ["internal_reference_id__exact"]
    search_help_text = "A whole internal reference."
    ordering = ["-created_at"]
    fields = ["internal_reference_id", "company", "current_checkout", "created_at"]
    readonly_fields = fields
    inlines = [CheckoutInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payable]:
        # A subquery, not a join and GROUP BY: the database counts only the sessions of
        # the rows it returns (a page), never those of every payable before paging.
        sessions = (
            Checkout.objects.filter(payable=OuterRef("pk"))
            .order_by()
            .values("payable")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(session_count=Coalesce(Subquery(sessions), 0))

    def get_search_results(self, request, queryset, search_term):
        # The whole reference, spaces included; see ``payables_with_reference``.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(internal_reference_id=term), False

    @admin.display(description="Reference", ordering="internal_reference_id")
    def reference(self, payable: Payable) -> str:
        return payable.internal_reference_id

    @admin.display(description="Current session")
    def current_session(self, payable: Payable) -> str | None:
        current = payable.current_checkout
        return shortened_id(current.stripe_session_id) if current else None

    @admin.display(description="Created", ordering="created_at")
    def created(self, payable: Payable):
        return payable.created_at

    @admin.display(description="Sessions")
    def sessions(self, payable: Payable) -> int:
        return payable.session_count

    @admin.display(description="Current status", ordering="current_checkout__status")
    def current_status(self, payable: Payable) -> str | None:
        current = payable.current_checkout
        return current.get_status_display() if current else None

    @admin.display(description="Paid", boolean=True, ordering="paid_checkout")
    def paid(self, payable: Payable) -> bool:
        return payable.is_paid


class EventTypeFilter(admin.SimpleListFilter):
    """The event types this service handles (Django's own filter would find the types
    with ``SELECT DISTINCT`` over every delivery); others are in the "ignored" outcome."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(event_type, event_type) for event_type in sorted(HANDLED_EVENT_TYPES)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(event_type=self.value())
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "type", "account", "outcome", "received"]
    list_filter = ["outcome", EventTypeFilter]
    sortable_by = ["received"]
    search_fields = ["event_id__exact"]
    search_help_text = "A whole event id, evt_…."
    date_hierarchy = "received_at"
    fields = [
        "event_id",
        "event_type",
        "account",
        "outcome",
        "error",
        "received_at",
        "processed_at",
        "pretty_payload",
    ]
    readonly_fields = fields
    actions = ["reprocess"]

    @admin.display(description="Event", ordering="event_id")
    def event(self, delivery: WebhookDelivery) -> str:
        return shortened_id(delivery.event_id) if delivery.event_id else "(no id)"

    @admin.display(description="Type", ordering="event_type")
    def type(self, delivery: WebhookDelivery) -> str:
        return delivery.event_type

    @admin.display(description="Received", ordering="received_at")
    def received(self, delivery: WebhookDelivery):
        return delivery.received_at

    @admin.display(description="Payload")
    def pretty_payload(self, delivery: WebhookDelivery) -> str:
        try:
            text = json.dumps(json.loads(delivery.payload), indent=2, ensure_ascii=False)
        except ValueError:
            text = delivery.payload
        return format_html("<pre>{}</pre>", text)

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return self.may_act(request)

    @admin.action(description="Reprocess", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            processed = process_delivery(delivery, reprocess=True)
            report = f"{processed.event_id}: {processed.get_outcome_display().lower()}"
            if processed.error:
                report += f": {processed.error}"
            self.message_user(
                request, report, DELIVERY_LEVELS.get(processed.outcome, messages.INFO)
            )


@admin.register(CompanyApiKey)
class CompanyApiKeyAdmin(APIKeyModelAdmin):
    """Keys are created here with the key shown once; only the hash is kept."""

    list_display = [*APIKeyModelAdmin.list_display, "company"]
    list_filter = ["company", "revoked"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]


# The library's own key model is unused: keys here belong to a company.
admin.site.unregister(APIKey)
