from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from checkouts.models import Checkout, CheckoutLine, CompanyApiKey, Payable


class CheckoutLineInline(admin.TabularInline):
    model = CheckoutLine
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = [
        "stripe_session_id",
        "payable",
        "company",
        "status",
        "payment_status",
        "amount_display",
        "ui_mode",
        "stripe_expiry",
        "created_at",
    ]
    list_filter = ["status", "payment_status", "ui_mode", "stripe_expiry"]
    list_select_related = ["payable", "company"]
    search_fields = ["payable__internal_reference_id", "=stripe_session_id"]
    inlines = [CheckoutLineInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Payable)
class PayableAdmin(admin.ModelAdmin):
    list_display = ["internal_reference_id", "company", "current_checkout", "created_at"]
    list_filter = ["company"]
    list_select_related = ["company", "current_checkout"]
    search_fields = ["internal_reference_id"]
    raw_id_fields = ["current_checkout"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CompanyApiKey)
class CompanyApiKeyAdmin(APIKeyModelAdmin):
    """Keys are created here with the key shown once; only the hash is kept."""

    list_display = [*APIKeyModelAdmin.list_display, "company"]
    list_filter = ["company", "revoked"]
    autocomplete_fields = ["company"]


# The library's own key model is unused: keys here belong to a company.
admin.site.unregister(APIKey)
