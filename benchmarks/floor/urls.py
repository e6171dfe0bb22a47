from django.urls import path

from benchmarks.floor.views import FloorCreateView

urlpatterns = [path("payment/stripe/v1/checkout", FloorCreateView.as_view())]
