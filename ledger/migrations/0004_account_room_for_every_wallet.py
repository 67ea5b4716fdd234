# Collection moves the balance of every wallet in a range at once. With 80 % full pages only
# about a third of those updates found room on their page (HOT); the others wrote four index
# entries each. Pages filled to 45 % leave each row room for its next version: updating 50,000
# wallets took 0.10 s instead of 0.43 s (docs/benchmarks.md). The table is small (one row an
# account), so the room costs little.

from django.db import migrations

from mutualaid.tables import fillfactor_operation


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_ledger_append_only")]
    operations = [fillfactor_operation("ledger_account", 45, previous=80)]
