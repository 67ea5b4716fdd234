"""Charges partitioned by batch, and old batches archived to verified files (issue 20)."""

import gzip
from contextlib import nullcontext

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apportionment import archive, partitions, publishing
from apportionment.models import Batch, Charge
from mutualaid import dialect
from statements.services import member_statement
from tests.apportionment.helpers import (
    approved_claim,
    bulk_members,
    collect,
    collection_debit_table,
    run_all_chunks,
    top_up,
)
from tests.factories import PoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _archive_root(settings, tmp_path):
    settings.ARCHIVE_ROOT = tmp_path / "archive"


def paid_out_batch(pool, members=7, queries=None) -> Batch:
    bulk_members(pool, members)
    approved_claim(pool, 10_000)
    batch = run_all_chunks(publishing.start_batch(pool))
    for account_id in set(Charge.objects.of_batch(batch.pk).values_list("account_id", flat=True)):
        top_up(get_user_model().objects.get(pk=account_id), 100_000)
    with queries if queries is not None else nullcontext():
        batch = collect(batch)
    assert batch.status == Batch.Status.PAID_OUT and batch.merkle_root
    return batch


def partition_of_each_batch() -> dict[int, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT batch_id, tableoid::regclass::text FROM apportionment_charge"
        )
        found: dict[int, set[str]] = {}
        for batch_id, table in cursor.fetchall():
            found.setdefault(batch_id, set()).add(table)
        return found


def test_each_batchs_charges_land_in_its_own_partition():
    first, second = paid_out_batch(PoolFactory()), paid_out_batch(PoolFactory())
    assert partition_of_each_batch() == {
        first.pk: {partitions.partition_name(first.pk)},
        second.pk: {partitions.partition_name(second.pk)},
    }
    with connection.cursor() as cursor:  # a member's read touches only the index
        cursor.execute(
            "EXPLAIN SELECT batch_id FROM apportionment_charge WHERE id BETWEEN %s AND %s",
            [first.pk << 32, (first.pk << 32) + 100],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert partitions.partition_name(second.pk) not in plan  # pruned


def test_a_collection_reads_only_its_batchs_partition():
    """Each collect chunk finds the batch's charges by account range: by `batch_id` alone that
    walked the range in the index of every batch still online (48 at two years' retention)."""
    first = paid_out_batch(PoolFactory())
    captured = CaptureQueriesContext(connection)
    second = paid_out_batch(PoolFactory(), queries=captured)
    reads = [
        query["sql"].split("collection_due AS", 1)[1]
        for query in captured.captured_queries
        if query["sql"].lstrip().startswith("CREATE TEMP TABLE collection_due")
    ]
    assert reads
    for read in reads:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {read}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert partitions.partition_name(second.pk) in plan
        assert partitions.partition_name(first.pk) not in plan, plan


def test_an_archived_batch_leaves_the_database_and_still_verifies_from_its_file(settings):
    kept, old = paid_out_batch(PoolFactory()), paid_out_batch(PoolFactory())
    Batch.objects.filter(pk=kept.pk).update(cutoff_at=timezone.now())
    Batch.objects.filter(pk=old.pk).update(cutoff_at=timezone.now() - timezone.timedelta(days=400))
    member = get_user_model().objects.get(pk=Charge.objects.of_batch(old.pk).first().account_id)
    call_command("archive_batches", "--before", str(timezone.localdate()), "--dry-run")
    assert partitions.partition_exists(old.pk)  # a dry run changes nothing
    before = (timezone.localdate() - timezone.timedelta(days=30)).isoformat()
    call_command("archive_batches", "--before", before)
    old.refresh_from_db()
    assert old.archived_at and not partitions.partition_exists(old.pk)
    assert not Charge.objects.of_batch(old.pk).exists()
    assert Charge.objects.of_batch(kept.pk).count() == kept.participants  # untouched
    root, total, count = archive.verify_archive(old)
    assert (root, total, count) == (old.merkle_root, old.merkle_total_cents, old.participants)
    call_command("archive_batches", "--before", before)  # again: nothing left to do
    statement = member_statement(user=member, year=old.cap_year)
    assert old in statement.archived and not statement.memberships  # says so, lists no charge

    # One cent changed in the file: the root no longer matches (the recorded SHA-256 aside).
    path = settings.ARCHIVE_ROOT / old.archive_file
    rows = gzip.decompress(path.read_bytes()).decode().splitlines()
    fields = rows[1].split(",")
    fields[4] = str(int(fields[4]) + 1)
    rows[1] = ",".join(fields)
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    with pytest.raises(ValidationError, match="changed"):
        archive.verify_archive(old)
    old.archive_sha256 = ""
    with pytest.raises(ValidationError, match="does not match"):
        archive.verify_archive(old)


def test_a_batch_with_unpaid_charges_or_no_root_is_not_archived():
    batch = paid_out_batch(PoolFactory())
    charge = Charge.objects.of_batch(batch.pk).first()
    Charge.objects.filter(pk=charge.pk).update(outstanding=True, paid_at=None)
    with pytest.raises(ValidationError, match="unpaid"):
        archive.archive_batch(batch)
    Batch.objects.filter(pk=batch.pk).update(merkle_root="")
    batch.refresh_from_db()
    with pytest.raises(ValidationError, match="Merkle root"):
        archive.archive_batch(batch)
    assert partitions.partition_exists(batch.pk)


@pytest.mark.parametrize("before", ["yesterday", "2026-02-30", "2999-01-01"])
def test_the_command_refuses_a_bad_date(before):
    with pytest.raises(CommandError):
        call_command("archive_batches", "--before", before)


def test_a_collection_debits_the_wallets_of_its_account_range_alone():
    """The debit statement names the chunk's owners: the planner, guessing the rows of an
    unanalysed temp table, otherwise read every wallet to hash-join 50,000 of them."""
    captured = CaptureQueriesContext(connection)
    paid_out_batch(PoolFactory(), queries=captured)
    debits = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().startswith("WITH debited")
    ]
    assert debits
    for debit in debits:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a test's few wallets: any plan
            collection_debit_table()
            cursor.execute(f"EXPLAIN {debit}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Index Cond: ((owner_id >=" in plan, plan


def test_a_chunk_runs_without_jit_and_sorts_in_memory():
    """PostgreSQL's JIT compiled each chunk statement (~30 ms of a 0.3 s chunk) for nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = on")  # PostgreSQL's default
        dialect.set_based(cursor)
        cursor.execute("SELECT current_setting('jit'), current_setting('work_mem')")
        assert cursor.fetchone() == ("off", "64MB")
