from django.urls import path
from rest_framework.urlpatterns import format_suffix_patterns

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
        ],
        allowed=["json", "csv", "xml"],
    ),
    path("payment/stripe/v1/webhook", StripeWebhookView.as_view(), name="stripe-webhook"),
]
