from django.db import migrations


def create(apps, schema_editor):
    from apportionment.schedules import crontab

    at_0030 = crontab("*", 0, apps, minute=30)
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
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
