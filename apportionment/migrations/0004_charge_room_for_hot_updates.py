# Collection marks each charge paid (paid_at, ledger_txn_id: no index has them); with 15% of
# every page free those updates are HOT and write no index entry (docs/benchmarks.md).

from django.db import migrations

from mutualaid.tables import fillfactor_operation


class Migration(migrations.Migration):
    dependencies = [("apportionment", "0003_schedules")]
    operations = [fillfactor_operation("apportionment_charge", 85, previous=None)]
