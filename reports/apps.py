from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        from apportionment.signals import batch_published
        from reports import forecast
        from reports.tasks import on_batch_published

        batch_published.connect(on_batch_published, dispatch_uid="reports.store_root")
        batch_published.connect(forecast.on_batch_published, dispatch_uid="reports.forecast")
