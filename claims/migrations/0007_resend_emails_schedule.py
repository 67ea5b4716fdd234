from django.db import migrations

NAME = "hand over again the emails the broker never took"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={"task": "claims.resend_unsent_emails", "interval": every_minute, "enabled": True},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0006_notification_outbox"),
        ("mutualaid", "0002_roles_and_heartbeat_schedule"),
    ]

    operations = [migrations.RunPython(create_schedule, remove)]
