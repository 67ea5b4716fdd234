from django.db import migrations


def create_schedules(apps, schema_editor):
    # The live models are used on purpose: the schedule rules live in one place.
    from apportionment.schedules import sync_engine_schedules, sync_pool_schedules
    from pools.models import Pool

    sync_engine_schedules()
    for pool in Pool.objects.all():
        sync_pool_schedules(pool)


class Migration(migrations.Migration):
    dependencies = [
        ("apportionment", "0002_batch_engine"),
        ("pools", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
