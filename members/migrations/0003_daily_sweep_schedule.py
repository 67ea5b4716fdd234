from django.db import migrations


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    at_0030, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="0", day_of_month="*", month_of_year="*", day_of_week="*",
        timezone="UTC",
    )
    PeriodicTask.objects.get_or_create(
        name="daily membership status sweep",
        defaults={"task": "members.daily_status_sweep", "crontab": at_0030},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_sandbox_payments"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
