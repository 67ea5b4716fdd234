from django.db import migrations

from mutualaid.beat import add_interval_task, remove_task

NAME = "hand over again the emails the broker never took"


def create_schedule(apps, schema_editor):
    add_interval_task(apps, NAME, "claims.resend_unsent_emails", 60)


def remove(apps, schema_editor):
    remove_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0006_notification_outbox"),
        ("mutualaid", "0002_roles_and_heartbeat_schedule"),
    ]

    operations = [migrations.RunPython(create_schedule, remove)]
