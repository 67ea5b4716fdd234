import hashlib

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_sha256(value):
    if value is None:
        return None
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).digest()


def register_sqlite_functions(sender, connection, **kwargs):
    """The embedded SQLite default lacks sha256(); the odd-cent rule needs it."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("sha256", 1, _sqlite_sha256, deterministic=True)


class ApportionmentConfig(AppConfig):
    name = "apportionment"

    def ready(self):
        from django.db.models.signals import post_save

        connection_created.connect(register_sqlite_functions, dispatch_uid="apportionment.sqlite")
        post_save.connect(_pool_saved, sender="pools.Pool", dispatch_uid="apportionment.pool")


def _pool_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        from apportionment.schedules import sync_pool_schedules

        sync_pool_schedules(instance)
