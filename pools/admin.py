from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from mutualaid.admin_utils import LabelledTabularInline
from mutualaid.roles import OPERATORS, has_role
from pools.models import BenefitBand, Condition, Pool, WindDown
from pools.winddown import announce_wind_down


class BenefitBandInline(LabelledTabularInline):
    model = BenefitBand
    extra = 0


class WindDownForm(forms.Form):
    closing_date = forms.DateField(
        label=_("Closing date (the first day not covered)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "is_open",
        "wind_down",
        "waiting_days",
        "fee_rate_bp",
        "annual_cap_cents",
    )
    list_filter = ("is_open",)
    list_select_related = ("wind_down",)
    prepopulated_fields = {"slug": ("name",)}
    # A plain multiple select: the filter_horizontal widget's script puts aria-label on spans
    # (axe: aria-prohibited-attr), and a pool covers a short list of conditions.
    inlines = [BenefitBandInline]
    actions = ["announce_closing"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not (request.user.is_superuser or has_role(request.user, OPERATORS)):
            actions.pop("announce_closing", None)
        return actions

    @admin.action(description=_("Announce the closing (wind-down)"))
    def announce_closing(self, request, queryset):
        """A page asks for the closing date; its POST announces it (pools.winddown)."""
        form = WindDownForm(request.POST if "closing_date" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "pools": queryset,
                "form": form,
                "title": _("Announce the closing"),
            }
            return TemplateResponse(request, "admin/pools/pool/wind_down.html", context)
        for pool in queryset:
            try:
                done = announce_wind_down(
                    pool=pool,
                    actor=request.user,
                    via=WindDown.Via.ADMIN,
                    closing_date=form.cleaned_data["closing_date"],
                )
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(getattr(exc, "messages", [str(exc)]))
                self.message_user(request, f"{pool}: {text}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(pool)s is closing: claims accepted until %(day)s; %(n)s accounts told.")
                % {"pool": pool, "day": done.claims_until.isoformat(), "n": done.accounts_told},
                messages.SUCCESS,
            )
        return None


@admin.register(WindDown)
class WindDownAdmin(admin.ModelAdmin):
    """The record of each closing: written only by the announcement and the daily close."""

    list_display = ("pool", "status", "announced_at", "announced_by", "via", "closing_date")
    list_filter = ("status",)
    readonly_fields = [f.name for f in WindDown._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "category")
    list_filter = ("category",)
    search_fields = ("code", "name", "name_zh")
