from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        from apportionment.signals import batch_published
        from reports.services import store_root

        batch_published.connect(store_root, dispatch_uid="reports.store_root")
