from django.db import migrations

NAME = "close panels whose voting ended"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_10_min, _ = IntervalSchedule.objects.get_or_create(every=600, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={"task": "notice.close_ended_panels", "interval": every_10_min, "enabled": True},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("notice", "0002_close_notices_schedule")]

    operations = [migrations.RunPython(create_schedule, remove)]
