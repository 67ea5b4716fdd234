"""Charges partitioned by batch (PostgreSQL): a charge's id is batch id × 2^32 + membership
id (mutualaid.pairkeys), so each batch's charges are one key range and one partition,
`apportionment_charge_b<batch id>`. A member's pages read a handful of partitions by index;
an old batch's partition can be detached and archived whole (apportionment/archive.py).

The embedded SQLite default keeps one plain table: every function here is a no-op there.
"""

from django.db import connection

from mutualaid import dialect
from mutualaid.pairkeys import pair_key

PARENT = "apportionment_charge"


def partition_name(batch_id: int) -> str:
    return f"{PARENT}_b{int(batch_id)}"


def partition_exists(batch_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXISTS (SELECT 1 FROM pg_inherits i
                           JOIN pg_class c ON c.oid = i.inhrelid
                           WHERE i.inhparent = %s::regclass AND c.relname = %s)
            """,
            [PARENT, partition_name(batch_id)],
        )
        return cursor.fetchone()[0]


def ensure_partition(batch_id: int):
    """The batch's partition, created empty and attached (idempotent).

    Created as a table of its own, then attached: ATTACH PARTITION takes a SHARE UPDATE
    EXCLUSIVE lock on the charges (members' pages keep reading and other batches keep
    writing), where CREATE TABLE ... PARTITION OF would take an ACCESS EXCLUSIVE one.
    """
    if not dialect.is_postgres() or partition_exists(batch_id):
        return
    name = partition_name(batch_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [pair_key(batch_id, 0), pair_key(batch_id + 1, 0)],
        )


def detach_partition(batch_id: int):
    """Take the batch's charges out of the table (the caller has archived them)."""
    name = partition_name(batch_id)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
        cursor.execute(f"DROP TABLE {name}")


def batch_created(sender, instance, created=False, raw=False, **kwargs):
    """Every batch has its partition from the moment it exists (the engine's and any other)."""
    if created and not raw:
        ensure_partition(instance.pk)
