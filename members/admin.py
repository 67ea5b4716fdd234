from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from members.csv_import import COLUMNS, import_enrollments
from members.models import Membership, MembershipStatusChange, Person
from mutualaid.admin_utils import ReadOnlyInline


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """Identity numbers are shown masked, and never editable once saved."""

    list_display = ("full_name", "masked_identity_number", "relationship", "account", "province")
    list_filter = ("relationship", "province")
    search_fields = ("full_name", "account__username")
    fields = (
        "account",
        "relationship",
        "full_name",
        "sex",
        "birth_date",
        "masked_identity_number",
        "province",
    )
    readonly_fields = ("masked_identity_number", "account")

    def has_add_permission(self, request):
        return False  # persons are created by enrollment, which validates the identity number


class StatusChangeInline(ReadOnlyInline):
    model = MembershipStatusChange
    fields = ("at", "change", "cause", "actor")

    @admin.display(description=_("change"))
    def change(self, row):
        before = Membership.Status(row.from_status).label if row.from_status else "∅"
        return f"{before} → {Membership.Status(row.to_status).label}"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("person", "pool", "status", "joined_at", "waiting_ends_on")
    list_filter = ("pool", "status")
    search_fields = ("person__full_name",)
    list_select_related = ("person", "pool")
    readonly_fields = [f.name for f in Membership._meta.fields]
    inlines = [StatusChangeInline]
    change_list_template = "admin/members/membership/change_list.html"

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="members_membership_import"), *super().get_urls()]

    def import_view(self, request):
        """Bulk enrollment from a CSV file: every row enrolled, or none and a report."""
        if not request.user.has_perm("members.add_membership"):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            report = import_enrollments(form.cleaned_data["file"].read(), request.user)
            if report.ok:
                self.message_user(request, f"{report.enrolled} memberships enrolled.")
                return redirect("admin:members_membership_changelist")
            self.message_user(request, "Nothing was imported: fix these rows.", messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "columns": COLUMNS,
            "title": _("Bulk enrollment from CSV"),
        }
        return TemplateResponse(request, "admin/members/membership/import.html", context)
