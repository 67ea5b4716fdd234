from django.apps import AppConfig


class NoticeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notice"

    def ready(self):
        from notice import services  # noqa: F401  (registers its rules with the claim workflow)
