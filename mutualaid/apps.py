from django.apps import AppConfig


class MutualaidConfig(AppConfig):
    name = "mutualaid"
    verbose_name = "Operations"

    def ready(self):
        from django.db.models.signals import post_migrate

        from mutualaid import invalidation
        from mutualaid.roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="mutualaid.sync_roles")
        invalidation.connect()
