from django.db import migrations

from mutualaid.beat import add_interval_task, remove_task

GROUPS = ["investigators", "adjudicators", "operators"]
NAME = "heartbeat every minute"


def create_roles_and_schedule(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)
    add_interval_task(apps, NAME, "mutualaid.heartbeat", 60)


def remove(apps, schema_editor):
    remove_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("mutualaid", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_roles_and_schedule, remove)]
