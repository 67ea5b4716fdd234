from django.contrib import admin

from pools.models import BenefitBand, Condition, Pool


class BenefitBandInline(admin.TabularInline):
    model = BenefitBand
    extra = 0


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_open", "waiting_days", "fee_rate_bp", "annual_cap_cents")
    list_filter = ("is_open",)
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("conditions",)
    inlines = [BenefitBandInline]


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "category")
    list_filter = ("category",)
    search_fields = ("code", "name", "name_zh")
