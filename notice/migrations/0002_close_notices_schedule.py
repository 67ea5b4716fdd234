from django.db import migrations


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_10_min, _ = IntervalSchedule.objects.get_or_create(every=600, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="close ended public notices",
        defaults={"task": "notice.close_ended_notices", "interval": every_10_min, "enabled": True},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="close ended public notices"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notice", "0001_initial"),
        ("mutualaid", "0002_roles_and_heartbeat_schedule"),
    ]

    operations = [migrations.RunPython(create_schedule, remove)]
