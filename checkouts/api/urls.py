from django.urls import path
from rest_framework.urlpatterns import format_suffix_patterns

from checkouts.api.views import CreateCheckoutView

urlpatterns = format_suffix_patterns(
    [
        path("payment/stripe/v1/checkout", CreateCheckoutView.as_view(), name="checkout-create"),
    ],
    allowed=["json", "csv", "xml"],
)
