from django.db import migrations

from mutualaid.beat import add_interval_task, remove_task

NAME = "close ended public notices"


def create_schedule(apps, schema_editor):
    add_interval_task(apps, NAME, "notice.close_ended_notices", 600)


def remove(apps, schema_editor):
    remove_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("notice", "0001_initial"),
        ("mutualaid", "0002_roles_and_heartbeat_schedule"),
    ]

    operations = [migrations.RunPython(create_schedule, remove)]
