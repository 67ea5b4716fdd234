from django.db import migrations


def create_schedules(apps, schema_editor):
    # The schedule rules live in one place; they are given this migration's historical models.
    from apportionment.schedules import sync_engine_schedules, sync_pool_schedules

    sync_engine_schedules(apps)
    for pool in apps.get_model("pools", "Pool").objects.all():
        sync_pool_schedules(pool, apps)


class Migration(migrations.Migration):
    dependencies = [
        ("apportionment", "0002_batch_engine"),
        ("pools", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
