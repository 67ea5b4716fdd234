# Collection moves every wallet's balance (no index has it); free room in each page makes
# those updates HOT (docs/benchmarks.md).

from django.db import migrations

from mutualaid.tables import fillfactor_operation


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [fillfactor_operation("ledger_account", 80, previous=None)]
