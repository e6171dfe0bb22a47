"""The API's routes, matched as ServiceStack matches them (``checkouts.api.routes``)."""

from django.urls import path

from checkouts.api.docs import OpenApiJsonView, OpenApiYamlView, SwaggerDocsView
from checkouts.api.errors import UnknownPathView
from checkouts.api.payment_log.views import PaymentLogView
from checkouts.api.refunds.views import RefundCheckoutView
from checkouts.api.routes import reply_route, servicestack_routes, unknown_path_routes
from checkouts.api.views import (
    CheckoutStatusView,
    CreateCheckoutView,
    StripeIpnCallbackView,
    StripeWebhookView,
)

# The sections of the site for browsers, whose errors stay Django's own.
BROWSER_SECTIONS = ("admin", "demo", "static")

urlpatterns = [
    *servicestack_routes(
        "payment/stripe/v1/checkout", CreateCheckoutView.as_view(), name="checkout-create"
    ),
    *servicestack_routes(
        "payment/stripe/v1/checkout/status", CheckoutStatusView.as_view(), name="checkout-status"
    ),
    *servicestack_routes(
        "payment/stripe/v1/checkout/refund", RefundCheckoutView.as_view(), name="checkout-refund"
    ),
    *servicestack_routes(
        "payment/stripe/v1/payments", PaymentLogView.as_view(), name="payment-log"
    ),
    # BokaMera's StripeCheckoutIpnCallBackRequest has both paths.
    *servicestack_routes(
        "payment/stripe/v1/webhook", StripeWebhookView.as_view(), name="stripe-webhook"
    ),
    *servicestack_routes(
        "payment/stripe/v1/ipncallback", StripeIpnCallbackView.as_view(), name="stripe-ipncallback"
    ),
    *(
        reply_route(view.request_name, view.as_view())
        for view in (
            CreateCheckoutView,
            CheckoutStatusView,
            RefundCheckoutView,
            PaymentLogView,
            StripeWebhookView,
        )
    ),
    # The API's own description, public. The suffix is part of each path (not a format
    # suffix of the API's), so each serves one format.
    path("openapi.json", OpenApiJsonView.as_view(), name="openapi-json"),
    path("openapi.yaml", OpenApiYamlView.as_view(), name="openapi-yaml"),
    path("docs/", SwaggerDocsView.as_view(), name="api-docs"),
    *unknown_path_routes(UnknownPathView.as_view(), browser_sections=BROWSER_SECTIONS),
]
