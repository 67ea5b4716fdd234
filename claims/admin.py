"""The reviewers' workplace: queues, filters, evidence, history and exactly the allowed buttons."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from claims import workflow
from claims.models import Claim, ClaimEvent, Evidence, SponsoredScheme
from members.models import Membership
from mutualaid.admin_utils import ReadOnlyInline
from notice import selectors as notice_selectors
from notice.models import Panel


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("mine", _("My assigned claims")),
            ("unassigned", _("Unassigned")),
            ("decide", _("Awaiting decision")),
            ("panel", _("Panel could not decide")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(investigator=request.user).exclude(
                status__in=Claim.CLOSED_STATUSES
            )
        if self.value() == "unassigned":
            return queryset.filter(status=Claim.Status.SUBMITTED)
        if self.value() == "decide":
            return queryset.filter(status=Claim.Status.INVESTIGATED)
        if self.value() == "panel":
            return queryset.filter(panels__status=Panel.Status.NEEDS_ADJUDICATOR)
        return queryset


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ("link", "content_type", "size", "sha256", "uploaded_at")

    @admin.display(description=_("file"))
    def link(self, evidence):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("evidence-file", args=[evidence.pk]),
            evidence.original_name,
        )


class EventInline(ReadOnlyInline):
    model = ClaimEvent
    fields = ("at", "what", "actor", "note")

    @admin.display(description=_("what happened"))
    def what(self, event):
        return workflow.event_label(event)


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "pool",
        "status",
        "condition",
        "investigator",
        "adjudicator",
        "submitted_at",
    )
    list_filter = (QueueFilter, "status", "pool", "scheme", "condition__category")
    list_select_related = ("pool", "condition", "investigator", "adjudicator")
    readonly_fields = [f.name for f in Claim._meta.fields] + ["membership_history"]
    inlines = [EvidenceInline, EventInline]
    change_form_template = "admin/claims/claim/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("membership history"))
    def membership_history(self, claim):
        return format_html_join(
            "",
            "<div>{} {} → {} ({})</div>",
            (
                (
                    c.at.date(),
                    Membership.Status(c.from_status).label if c.from_status else "∅",
                    Membership.Status(c.to_status).label,
                    c.cause,
                )
                for c in claim.membership.status_changes.all()
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        claim = self.get_object(request, object_id)  # None for an id that is not one: 404 below
        if claim is None:
            return super().change_view(request, object_id, form_url, extra_context)
        extra_context = {
            **(extra_context or {}),
            "claim_actions": [
                (name, workflow.TRANSITIONS[name])
                for name in workflow.available_actions(request.user, claim)
            ],
            "panel_to_decide": notice_selectors.panel_to_adjudicate(claim, request.user),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view(self.transition_view)
        return [
            path("<int:pk>/transition/", view, name="claims_claim_transition"),
            *super().get_urls(),
        ]

    def transition_view(self, request, pk):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        claim = get_object_or_404(Claim, pk=pk)
        details = {}
        action = request.POST.get("action", "")
        try:
            if request.POST.get("first_diagnosed_on"):
                details["first_diagnosed_on"] = _date(request.POST["first_diagnosed_on"])
            workflow.perform(
                claim, action, user=request.user, note=request.POST.get("note", ""), **details
            )
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                _("Done: %(action)s.") % {"action": workflow.action_label(action)},
                messages.SUCCESS,
            )
        return redirect("admin:claims_claim_change", pk)


def _date(text: str):
    """A posted date, or a clear refusal (a well-formed impossible date like 2026-02-30 too)."""
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(_("%(text)s is not a date (YYYY-MM-DD).") % {"text": text[:20]})
    return day


def _error_text(exc):
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


@admin.register(SponsoredScheme)
class SponsoredSchemeAdmin(admin.ModelAdmin):
    """An operator's free cover of a pool's participants for one event (SPEC 11): its claims
    are reviewed like any other and paid by the sponsor, never apportioned."""

    list_display = ("event", "pool", "starts_on", "ends_on", "payout_cents", "sponsor")
    list_filter = ("pool",)
    fields = ("pool", "event", "event_zh", "starts_on", "ends_on", "payout_cents", "sponsor")

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        # Once it has claims, what they were judged by stays as it was.
        return self.fields if obj is not None and obj.claims.exists() else ()

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
