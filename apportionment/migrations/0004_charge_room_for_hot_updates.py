# Collection marks each charge paid (paid_at, ledger_txn_id: no index has them); with 15% of
# every page free those updates are HOT and write no index entry (docs/benchmarks.md).

from django.db import migrations

from mutualaid.tables import set_fillfactor


def leave_room(apps, schema_editor):
    set_fillfactor(schema_editor, "apportionment_charge", 85)


def full_pages(apps, schema_editor):
    set_fillfactor(schema_editor, "apportionment_charge", None)


class Migration(migrations.Migration):
    dependencies = [("apportionment", "0003_schedules")]
    operations = [migrations.RunPython(leave_room, full_pages)]
