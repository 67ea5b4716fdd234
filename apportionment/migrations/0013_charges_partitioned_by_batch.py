"""Charges partitioned by batch on PostgreSQL (apportionment/partitions.py): the table becomes a
range-partitioned one on its id, with one partition per batch; the rows are copied over. The
embedded SQLite default keeps its plain table."""

from django.db import migrations

PARENT = "apportionment_charge"
OLD = "apportionment_charge_unpartitioned"
INDEXES = {
    "charge_account": "(account_id, batch_id)",
    "charge_outstanding": "(account_id, membership_id) WHERE outstanding",
}


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(f"ALTER TABLE {PARENT} RENAME TO {OLD}")
    run(f"ALTER INDEX {PARENT}_pkey RENAME TO {OLD}_pkey")
    for name in INDEXES:
        run(f"ALTER INDEX {name} RENAME TO {name}_unpartitioned")
    run(
        f"CREATE TABLE {PARENT} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (id)"
    )
    run(f"ALTER TABLE {PARENT} ADD CONSTRAINT {PARENT}_pkey PRIMARY KEY (id)")
    for name, columns in INDEXES.items():
        run(f"CREATE INDEX {name} ON {PARENT} {columns}")
    for (batch_id,) in apps.get_model("apportionment", "Batch").objects.values_list("pk"):
        run(
            f"CREATE TABLE {PARENT}_b{batch_id} PARTITION OF {PARENT} "
            f"FOR VALUES FROM ({batch_id << 32}) TO ({(batch_id + 1) << 32})"
        )
    run(f"INSERT INTO {PARENT} SELECT * FROM {OLD}")
    run(f"DROP TABLE {OLD}")


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(f"CREATE TABLE {OLD} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    run(f"INSERT INTO {OLD} SELECT * FROM {PARENT}")
    run(f"DROP TABLE {PARENT}")  # and its partitions
    run(f"ALTER TABLE {OLD} RENAME TO {PARENT}")
    run(f"ALTER TABLE {PARENT} ADD CONSTRAINT {PARENT}_pkey PRIMARY KEY (id)")
    for name, columns in INDEXES.items():
        run(f"CREATE INDEX {name} ON {PARENT} {columns}")


class Migration(migrations.Migration):
    dependencies = [("apportionment", "0012_sponsored_batches_and_scheme_payouts")]
    operations = [migrations.RunPython(partition, unpartition)]
