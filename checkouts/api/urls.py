from django.urls import path
from rest_framework.urlpatterns import format_suffix_patterns

from checkouts.api.docs import OpenApiJsonView, OpenApiYamlView, SwaggerDocsView
from checkouts.api.payment_log.views import PaymentLogView
from checkouts.api.refunds.views import RefundCheckoutView
from checkouts.api.views import CheckoutStatusView, CreateCheckoutView, StripeWebhookView

urlpatterns = [
    *format_suffix_patterns(
        [
            path(
                "payment/stripe/v1/checkout", CreateCheckoutView.as_view(), name="checkout-create"
            ),
            path(
                "payment/stripe/v1/checkout/status",
                CheckoutStatusView.as_view(),
                name="checkout-status",
            ),
            path(
                "payment/stripe/v1/checkout/refund",
                RefundCheckoutView.as_view(),
                name="checkout-refund",
            ),
            path("payment/stripe/v1/payments", PaymentLogView.as_view(), name="payment-log"),
        ],
        allowed=["json", "csv", "xml"],
    ),
    path("payment/stripe/v1/webhook", StripeWebhookView.as_view(), name="stripe-webhook"),
    # The API's own description, public. The suffix is part of each path (not a
    # format_suffix_patterns suffix), so each serves one format.
    path("openapi.json", OpenApiJsonView.as_view(), name="openapi-json"),
    path("openapi.yaml", OpenApiYamlView.as_view(), name="openapi-yaml"),
    path("docs/", SwaggerDocsView.as_view(), name="api-docs"),
]
