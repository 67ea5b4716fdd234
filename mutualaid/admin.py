from django.contrib import admin

from mutualaid.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("ran_at", "scheduled_at", "worker")
    readonly_fields = ("ran_at", "scheduled_at", "worker")

    def has_add_permission(self, request):
        return False
