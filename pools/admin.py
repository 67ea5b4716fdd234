"""Pools and their rules in the admin. A pool's rule fields are the cache of its rule version in
force: they change only by publishing a new version (drafted here, pools.rule_changes publishes
it)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from mutualaid.admin_utils import LabelledTabularInline
from mutualaid.roles import OPERATORS, has_role
from pools import rule_changes, rules
from pools.forms import RuleVersionForm
from pools.models import BenefitBand, Condition, Pool, RuleVersion, WindDown
from pools.winddown import announce_wind_down


class BenefitBandInline(LabelledTabularInline):
    model = BenefitBand
    extra = 0

    def has_change_permission(self, request, obj=None):
        return obj is None  # a pool's schedule then changes by a new rule version

    has_add_permission = has_delete_permission = has_change_permission


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

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["rules_link"]
        return ["rules_link", *rules.CACHED_ON_POOL, "conditions"]

    @admin.display(description=_("rules"))
    def rules_link(self, pool):
        if pool is None or pool.pk is None:
            return _("Saved as the pool's first rule version.")
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:pools_ruleversion_add") + f"?pool={pool.pk}",
            _("Draft a new version of the rules"),
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            rule_changes.record_first_version(pool=form.instance, by=request.user)

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


@admin.register(RuleVersion)
class RuleVersionAdmin(admin.ModelAdmin):
    """Published versions are read-only (the database refuses a change); a new one is drafted
    from the pool's latest, its differences shown, then published."""

    list_display = ("pool", "effective_on", "published_at", "published_by")
    list_filter = ("pool",)
    date_hierarchy = "effective_on"

    def has_add_permission(self, request):
        """Operators only (pools.rule_changes.publish_rule_version asks the same), not every
        superuser."""
        return super().has_add_permission(request) and has_role(request.user, OPERATORS)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """GET ?pool=ID: the draft, prefilled from the pool's latest version. POST: the
        differences against the version it follows; POST with `publish`: published."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        pool_id = request.GET.get("pool") or request.POST.get("pool")
        if not (pool_id or "").isdigit():
            return TemplateResponse(
                request,
                "admin/pools/ruleversion/choose_pool.html",
                {**self._context(request, _("Draft new rules")), "pools": Pool.objects.all()},
            )
        pool = get_object_or_404(Pool, pk=pool_id)
        form = RuleVersionForm.prefilled(rule_changes.draft_rule_version(pool=pool))
        changes = None
        if request.method == "POST":
            form = RuleVersionForm(request.POST)
            if form.is_valid():
                values = form.rule_values()
                effective_on = form.cleaned_data["effective_on"]
                try:
                    if "publish" in request.POST:
                        version = rule_changes.publish_rule_version(
                            pool=pool,
                            effective_on=effective_on,
                            values=values,
                            note=form.cleaned_data["note"],
                            by=request.user,
                        )
                        self.message_user(
                            request,
                            _("Published: the new rules of %(pool)s take effect on %(day)s.")
                            % {"pool": pool, "day": version.effective_on},
                            messages.SUCCESS,
                        )
                        return redirect("admin:pools_ruleversion_change", version.pk)
                    changes = rules.differences(
                        rule_changes.replaced_by(pool, effective_on),
                        rule_changes.check_rule_values(values),
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
        title = _("New rules for %(pool)s") % {"pool": pool}
        context = {
            **self._context(request, title),
            "pool": pool,
            "form": form,
            "changes": changes,
            "earliest": rule_changes.earliest_effective_on(pool),
            "notice_of_change_days": rule_changes.NOTICE_OF_CHANGE_DAYS,
        }
        return TemplateResponse(request, "admin/pools/ruleversion/draft.html", context)

    def _context(self, request, title):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title}
