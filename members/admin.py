from django.contrib import admin

from members.models import Membership, MembershipStatusChange, Person


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


class StatusChangeInline(admin.TabularInline):
    model = MembershipStatusChange
    fields = ("at", "from_status", "to_status", "cause", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("person", "pool", "status", "joined_at", "waiting_ends_on")
    list_filter = ("pool", "status")
    search_fields = ("person__full_name",)
    list_select_related = ("person", "pool")
    readonly_fields = [f.name for f in Membership._meta.fields]
    inlines = [StatusChangeInline]

    def has_add_permission(self, request):
        return False
