from django.urls import path

from bokacheckout.demo import views

app_name = "demo"

urlpatterns = [
    path("", views.checkout_page, name="checkout"),
    path("confirmation", views.confirmation_page, name="confirmation"),
    path("cancel", views.cancel_page, name="cancel"),
]
