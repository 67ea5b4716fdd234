from django.apps import AppConfig
from django.db.backends.signals import connection_created

from mutualaid.dialect import register_sqlite_functions


class ApportionmentConfig(AppConfig):
    name = "apportionment"

    def ready(self):
        from django.db.models.signals import post_save

        # The phases register their handlers with the chunk engine.
        from apportionment import collection, partitions, publishing  # noqa: F401

        connection_created.connect(register_sqlite_functions, dispatch_uid="apportionment.sqlite")
        post_save.connect(_pool_saved, sender="pools.Pool", dispatch_uid="apportionment.pool")
        post_save.connect(
            partitions.batch_created, sender="apportionment.Batch", dispatch_uid="apportionment.b"
        )


def _pool_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        from apportionment.schedules import sync_pool_schedules

        sync_pool_schedules(instance)
