# Collection moves every wallet's balance (no index has it); free room in each page makes
# those updates HOT (docs/benchmarks.md).

from django.db import migrations

from mutualaid.tables import set_fillfactor


def leave_room(apps, schema_editor):
    set_fillfactor(schema_editor, "ledger_account", 80)


def full_pages(apps, schema_editor):
    set_fillfactor(schema_editor, "ledger_account", None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(leave_room, full_pages)]
