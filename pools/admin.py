from django.contrib import admin

from mutualaid.admin_utils import LabelledTabularInline
from pools.models import BenefitBand, Condition, Pool


class BenefitBandInline(LabelledTabularInline):
    model = BenefitBand
    extra = 0


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_open", "waiting_days", "fee_rate_bp", "annual_cap_cents")
    list_filter = ("is_open",)
    prepopulated_fields = {"slug": ("name",)}
    # A plain multiple select: the filter_horizontal widget's script puts aria-label on spans
    # (axe: aria-prohibited-attr), and a pool covers a short list of conditions.
    inlines = [BenefitBandInline]


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "category")
    list_filter = ("category",)
    search_fields = ("code", "name", "name_zh")
