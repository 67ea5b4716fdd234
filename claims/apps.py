from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"

    def ready(self):
        from claims import services  # noqa: F401  (registers the submit checks with the workflow)
