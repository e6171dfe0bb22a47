from django.contrib import admin

from articles.models import Article, Company, StripeCheckoutSettings


class StripeCheckoutSettingsInline(admin.StackedInline):
    model = StripeCheckoutSettings
    can_delete = False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "currency"]
    search_fields = ["name", "=id"]
    inlines = [StripeCheckoutSettingsInline]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "article_type", "article_id", "unit_amount", "active"]
    list_filter = ["company", "article_type", "active"]
    list_select_related = ["company"]
    search_fields = ["name"]
    autocomplete_fields = ["company"]
