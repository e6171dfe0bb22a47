from django import forms
from django.contrib import admin
from django.db import models

from articles.models import Article, Company, StripeCheckoutSettings
from articles.money import format_money
from articles.payment_methods import PAYMENT_METHOD_CHOICES, SEPARATOR


class StripeCheckoutSettingsForm(forms.ModelForm):
    """The allowed payment methods as checkboxes; the model checks them against the
    company's currency (``StripeCheckoutSettings.clean``). The admin makes the rest of the
    form from the model."""

    allowed_payment_methods = forms.MultipleChoiceField(
        choices=PAYMENT_METHOD_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The only methods customers may pay with; each must take the company's "
        "currency. None ticked: Stripe's dynamic payment methods (or the configuration).",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial["allowed_payment_methods"] = self.instance.payment_method_types

    def clean_allowed_payment_methods(self) -> str:
        return SEPARATOR.join(self.cleaned_data["allowed_payment_methods"])


class StripeCheckoutSettingsInline(admin.StackedInline):
    model = StripeCheckoutSettings
    form = StripeCheckoutSettingsForm
    can_delete = False
    # A URL typed without a scheme means https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "currency", "stripe_account", "stripe_checkout_enabled"]
    list_select_related = ["stripe_settings"]
    # Autocomplete widgets of other admins search companies through these.
    search_fields = ["name", "=id"]
    inlines = [StripeCheckoutSettingsInline]

    @admin.display(description="Stripe account", ordering="stripe_settings__connected_account_id")
    def stripe_account(self, company: Company) -> str:
        settings = getattr(company, "stripe_settings", None)
        return settings.connected_account_id if settings else ""

    @admin.display(description="Checkout enabled", boolean=True)
    def stripe_checkout_enabled(self, company: Company) -> bool:
        settings = getattr(company, "stripe_settings", None)
        return bool(settings and settings.enabled)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "article_type", "article_id", "price", "vat_rate", "active"]
    list_filter = ["company", "article_type", "active"]
    list_select_related = ["company"]
    search_fields = ["name"]
    autocomplete_fields = ["company"]

    @admin.display(description="Price", ordering="unit_amount")
    def price(self, article: Article) -> str:
        return format_money(article.unit_amount, article.company.currency)
