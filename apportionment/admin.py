"""The operators' apportionment console: preview, run, watch, resume. Thin over the services."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apportionment import collection, engine, figures, publishing
from apportionment.models import Batch, BatchClaim, BatchEvent, Chunk, SchemePayout
from mutualaid.admin_utils import ReadOnlyInline, money_fields, yuan
from pools.models import Pool


class BatchClaimInline(ReadOnlyInline):
    model = BatchClaim
    fields = ("claim", "payout_cents")


class SchemePayoutInline(ReadOnlyInline):
    model = SchemePayout
    fields = ("claim", "payout_cents")
    verbose_name_plural = _("sponsored scheme claims (paid by the sponsor, not apportioned)")


class ChunkInline(ReadOnlyInline):
    model = Chunk
    fields = ("phase", "number", "first_id", "last_id", "status", "attempts", "rows", "finished_at")


class BatchEventInline(ReadOnlyInline):
    model = BatchEvent
    fields = ("at", "action", "actor", "via")


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("id", "pool", "status", "cutoff_at", "participants", "amount", "subsidy")
    list_filter = ("pool", "status")
    inlines = [BatchEventInline, BatchClaimInline, SchemePayoutInline, ChunkInline]
    readonly_fields = ["progress_bar"]  # and the batch's fields, money as yuan (below)
    change_list_template = "admin/apportionment/batch/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("to collect"))
    def amount(self, batch):
        return yuan(batch.amount_cents)

    @admin.display(description=_("subsidy"))
    def subsidy(self, batch):
        return yuan(batch.subsidy_cents)

    @admin.display(description=_("progress"))
    def progress_bar(self, batch):
        done, total = batch.progress
        return format_html(
            '<progress class="batch-progress" data-url="{}" value="{}" max="{}"></progress> '
            '<span class="batch-progress-text">{}/{}</span>',
            reverse("admin:apportionment_batch_progress", args=[batch.pk]),
            done,
            max(total, 1),
            done,
            total,
        )

    class Media:
        js = ["apportionment/progress.js"]

    def get_urls(self):
        extra = [
            path(
                "apportion/<int:pool_id>/",
                self.admin_site.admin_view(self.apportion_view),
                name="apportionment_batch_apportion",
            ),
            path(
                "<int:batch_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="apportionment_batch_progress",
            ),
            path(
                "<int:batch_id>/act/",
                self.admin_site.admin_view(self.act_view),
                name="apportionment_batch_act",
            ),
        ]
        return extra + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "pools": Pool.objects.all()}
        return super().changelist_view(request, extra_context)

    def apportion_view(self, request, pool_id):
        """GET: preview every figure (nothing written). POST: start the batch."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        pool = get_object_or_404(Pool, pk=pool_id)
        if request.method == "POST":
            try:
                batch = publishing.start_batch(pool, actor=request.user, via=BatchEvent.Via.ADMIN)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                return redirect("admin:apportionment_batch_changelist")
            level = messages.WARNING if batch.status == Batch.Status.EMPTY else messages.SUCCESS
            self.message_user(
                request,
                _("Batch #%(id)s: %(outcome)s")
                % {"id": batch.pk, "outcome": batch.message or batch.get_status_display()},
                level,
            )
            return redirect("admin:apportionment_batch_change", batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "pool": pool,
            "figures": figures.preview(pool),
            "title": _("Preview of the next batch of %(pool)s") % {"pool": pool},
        }
        return TemplateResponse(request, "admin/apportionment/batch/preview.html", context)

    def progress_view(self, request, batch_id):
        if not self.has_view_permission(request):
            return JsonResponse({"detail": "Not allowed."}, status=403)
        batch = get_object_or_404(Batch, pk=batch_id)
        done, total = batch.progress
        return JsonResponse(
            {"status": batch.status, "done": done, "total": total, "message": batch.message}
        )

    def act_view(self, request, batch_id):
        """POST action=collect|resume on one batch."""
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(Batch, pk=batch_id)
        action = {"collect": collection.start_collection, "resume": engine.resume_batch}
        done = {
            "collect": _("Batch #%(id)s: collection started."),
            "resume": _("Batch #%(id)s: its unfinished chunks run again."),
        }
        try:
            action[request.POST.get("action", "")](
                batch, actor=request.user, via=BatchEvent.Via.ADMIN
            )
        except (ValidationError, KeyError) as exc:
            self.message_user(
                request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR
            )
        else:
            self.message_user(
                request, done[request.POST["action"]] % {"id": batch.pk}, messages.SUCCESS
            )
        return redirect("admin:apportionment_batch_change", batch.pk)


BatchAdmin.readonly_fields = money_fields(
    BatchAdmin,
    Batch,
    [f.name for f in Batch._meta.fields if f.name != "odd_cent_hash"],
    {
        "payouts_cents": _("payouts P"),
        "fee_cents": _("management fee F"),
        "surplus_cents": _("surplus U"),
        "amount_cents": _("to collect A"),
        "subsidy_cents": _("sponsor subsidy S (annual cap)"),
        "base_share_cents": _("base share"),
        "remainder_cents": _("remainder r (one cent more each)"),
        "annual_cap_cents": _("annual cap"),
    },
) + ["progress_bar"]
