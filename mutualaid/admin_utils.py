from django.contrib import admin


class ReadOnlyInline(admin.TabularInline):
    """An inline that shows history or derived rows: nothing added, changed or deleted."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False
