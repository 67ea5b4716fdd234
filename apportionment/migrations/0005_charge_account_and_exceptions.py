# Collection records exceptions instead of marking every charge paid (docs/benchmarks.md):
# - `account` (the household's account holder, fixed at publication) lets collection read a
#   range of accounts through one index, and the member's pages find their charges without
#   joining memberships and persons;
# - `outstanding` marks a charge the wallet did not cover; a covered charge is paid because its
#   batch was collected, and is never written again, so the table needs no free room per page.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from mutualaid.tables import fillfactor_operation

BACKFILL = """
UPDATE apportionment_charge SET account_id = (
    SELECT p.account_id FROM members_membership m JOIN members_person p ON p.id = m.person_id
    WHERE m.id = apportionment_charge.membership_id)
"""
OUTSTANDING = """
UPDATE apportionment_charge SET outstanding = TRUE
WHERE paid_at IS NULL AND batch_id IN (
    SELECT id FROM apportionment_batch WHERE status IN ('collected', 'paid_out'))
"""


class Migration(migrations.Migration):
    dependencies = [
        ("apportionment", "0004_charge_room_for_hot_updates"),
        ("members", "0005_lean_membership_tables"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="charge",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="charge",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="charge",
            name="outstanding",
            field=models.BooleanField(
                default=False, help_text="The wallet did not cover it on collection day."
            ),
        ),
        migrations.RunSQL(OUTSTANDING, migrations.RunSQL.noop),
        migrations.RemoveIndex(model_name="charge", name="charge_membership"),
        migrations.AddIndex(
            model_name="charge",
            index=models.Index(fields=["account", "batch"], name="charge_account"),
        ),
        migrations.AddIndex(
            model_name="charge",
            index=models.Index(
                condition=models.Q(outstanding=True),
                fields=["account", "membership"],
                name="charge_outstanding",
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(outstanding=False) | models.Q(paid_at__isnull=True),
                name="charge_outstanding_is_unpaid",
            ),
        ),
        fillfactor_operation("apportionment_charge", None, previous=85),
    ]
