# Collection marks each charge paid (paid_at, ledger_txn_id: no index has them); with 15% of
# every page free those updates are HOT and write no index entry (docs/benchmarks.md).

from django.db import migrations


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE apportionment_charge SET (fillfactor = 85)")


def full_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE apportionment_charge RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("apportionment", "0003_schedules")]
    operations = [migrations.RunPython(leave_room, full_pages)]
