"""Benchmark: python manage.py bench_apportion --members 1000000   (PostgreSQL only)

Prints, measured in one run:
  (a0) a bare INSERT ... SELECT of the same number of charge rows;
  (a) the same-work floor: the fewest bare statements that write what the batch writes;
  (b) our batch end to end through Celery (publish + collect, two worker processes);
  (c) the naive peer: ORM bulk_create of the same charges from Membership.objects.iterator();
and the ratios b/a and c/b, the peak RSS of the workers and the tables' sizes.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from apportionment import collection, publishing
from apportionment.figures import round_half_up_fee
from apportionment.models import Batch, Charge
from apportionment.partitions import ensure_partition, partition_name
from apportionment.sql import odd_cent_hash_sql
from claims.models import Claim
from ledger.models import Account
from ledger.models import Transaction as LedgerTransaction
from ledger.services import system_account
from members.models import Membership
from mutualaid import dialect
from mutualaid.benchdata import ensure_bench_members
from mutualaid.pairkeys import pair_key
from pools.models import Condition


class Command(BaseCommand):
    help = "Time a batch over N members against a bare INSERT ... SELECT and ORM bulk_create."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=1_000_000)
        parser.add_argument("--chunk-size", type=int, default=50_000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--skip-orm", action="store_true", help="skip the slow peer (c)")
        parser.add_argument(
            "--floor-only", action="store_true", help="measure (a0) and (a) only, write nothing"
        )

    def handle(self, members, chunk_size, workers, skip_orm, floor_only, **options):
        if not dialect.is_postgres():
            raise CommandError("bench_apportion needs PostgreSQL (set DATABASE_URL).")
        if not settings.CELERY_BROKER_URL.startswith("redis"):
            raise CommandError("bench_apportion needs Redis (set REDIS_URL).")
        pool = ensure_bench_members(members, self.stdout)
        self.stdout.write(f"pool {pool.slug}: {members:,} memberships")

        bare = self.timed(lambda: self.bare_insert(pool))
        self.stdout.write(f"(a0) bare INSERT ... SELECT of {members:,} rows: {bare:.2f} s")
        floor = self.timed(lambda: self.same_work_floor(pool))
        self.stdout.write(
            f"(a) same-work floor, {members:,} charges with shares and the odd cent, a debit "
            f"line a wallet, balances moved, the pool credited, in one transaction: {floor:.2f} s"
        )
        charges, debits, credit = self.floor_steps
        self.stdout.write(
            f"    of which: charges {charges:.2f} s, debit lines and balances {debits:.2f} s, "
            f"the pool credited {credit:.2f} s"
        )
        if floor_only:
            return

        procs = self.start_workers(workers)
        try:
            ours, batch = self.run_batch(pool, chunk_size)
        finally:
            peak = [self.peak_rss_mb(proc.pid) for proc in procs]
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)
        self.stdout.write(
            f"(b) our batch through Celery ({workers} workers, chunks of {chunk_size:,}): "
            f"{ours:.2f} s — {batch.participants:,} charges, status {batch.status}"
        )
        self.stdout.write(f"    worker peak RSS: {', '.join(f'{mb:.0f} MB' for mb in peak)}")
        self.stdout.write(f"    b/a = {ours / floor:.2f}")
        self.print_table_sizes(batch)
        if not skip_orm:
            naive = self.timed(lambda: self.orm_bulk_create(pool), checkpoint=False)
            self.stdout.write(f"(c) ORM bulk_create from iterator(): {naive:.2f} s")
            self.stdout.write(f"    c/b = {naive / ours:.1f}")

    @staticmethod
    def timed(work, checkpoint=True):
        """The seconds `work` takes, started after a CHECKPOINT (as pgbench does): the pages
        an earlier measurement dirtied are then not written out during this one's time. Not
        for the ORM peer: the full-page images after a checkpoint made it 5 % slower (80.2
        and 80.8 s against 76.0 and 77.0 s), which would flatter c/b (docs/benchmarks.md)."""
        if checkpoint:
            Command.checkpoint()
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    @staticmethod
    def checkpoint():
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")

    def bare_insert(self, pool):
        """The same rows into a logged table shaped like apportionment_charge (its indexes)."""
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_charge")
            cursor.execute("CREATE TABLE bench_charge (LIKE apportionment_charge INCLUDING ALL)")
            try:
                with transaction.atomic():
                    cursor.execute(
                        """
                        INSERT INTO bench_charge (id, batch_id, membership_id, account_id,
                            amount_cents, capped_cents, outstanding)
                        SELECT m.id, 0, m.id, m.person_id, 100, 0, FALSE
                        FROM members_membership m WHERE m.pool_id = %s
                        """,
                        [pool.pk],
                    )
            finally:
                cursor.execute("DROP TABLE bench_charge")

    def same_work_floor(self, pool):
        """The fewest bare statements that write what our batch writes (issue 20), on the same
        tables and indexes (a partition of the charges of its own), rolled back at the end:
        the charges with their shares and the odd cent (the r smallest hashes, by a sort), one
        debit line a wallet with the balances moved, and the pool reserve credited. Rows are
        inserted in key order, as the batch's chunks insert them: in the odd cent's order the
        indexes are written at random, which at 10,000,000 made this floor 20 times its time
        at 1,000,000 (docs/benchmarks.md, 2026-12-07)."""
        participants = Membership.objects.filter(pool=pool, status__in=("waiting", "active"))
        n = participants.count()
        amount = 30_000_000 + round_half_up_fee(30_000_000, pool.fee_rate_bp)
        batch_id = (Batch.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 10
        params = {
            "pool": pool.pk,
            "batch": batch_id,
            "first": pair_key(batch_id, 0),
            "last": pair_key(batch_id + 1, 0) - 1,
            "base": amount // n,
            "r": amount % n,
        }
        with transaction.atomic(), connection.cursor() as cursor:
            ensure_partition(batch_id)
            cursor.execute("SET LOCAL work_mem = '256MB'")
            marks = [time.perf_counter()]
            cursor.execute(
                f"""
                INSERT INTO apportionment_charge
                    (id, batch_id, membership_id, account_id, amount_cents, capped_cents,
                     outstanding)
                SELECT %(first)s + x.id, %(batch)s, x.id, x.account_id,
                       %(base)s + CASE WHEN x.rank <= %(r)s THEN 1 ELSE 0 END, 0, FALSE
                FROM (
                    SELECT m.id, p.account_id, ROW_NUMBER() OVER (
                        ORDER BY {odd_cent_hash_sql()}, m.id
                    ) AS rank
                    FROM members_membership m JOIN members_person p ON p.id = m.person_id
                    WHERE m.pool_id = %(pool)s AND m.status IN ('waiting', 'active')
                ) x
                ORDER BY x.id
                """,
                params,
            )
            marks.append(time.perf_counter())  # the charges are written
            txn = LedgerTransaction.objects.create(kind="collection", memo="bench floor")
            reserve = system_account(Account.Kind.POOL_RESERVE, pool)
            cursor.execute(
                """
                WITH debits AS (
                    SELECT c.account_id, SUM(c.amount_cents) AS amount FROM apportionment_charge c
                    WHERE c.id BETWEEN %(first)s AND %(last)s GROUP BY c.account_id
                ), moved AS (
                    UPDATE ledger_account w SET balance_cents = w.balance_cents - d.amount
                    FROM debits d WHERE w.owner_id = d.account_id AND w.kind = 'wallet'
                    RETURNING w.id, d.amount
                )
                INSERT INTO ledger_entry (id, transaction_id, account_id, amount_cents)
                SELECT %(txn_first)s + moved.id, %(txn)s, moved.id, -moved.amount FROM moved
                ORDER BY moved.id
                """,
                {**params, "txn": txn.pk, "txn_first": pair_key(txn.pk, 0)},
            )
            marks.append(time.perf_counter())  # debit lines and balances
            cursor.execute(
                """
                WITH credit AS (
                    UPDATE ledger_account SET balance_cents = balance_cents + %(amount)s
                    WHERE id = %(reserve)s RETURNING id
                )
                INSERT INTO ledger_entry (id, transaction_id, account_id, amount_cents)
                SELECT %(txn_first)s + credit.id, %(txn)s, credit.id, %(amount)s FROM credit
                """,
                {
                    "amount": amount,
                    "reserve": reserve.pk,
                    "txn": txn.pk,
                    "txn_first": pair_key(txn.pk, 0),
                },
            )
            marks.append(time.perf_counter())  # the pool credited
            self.floor_steps = [b - a for a, b in zip(marks, marks[1:], strict=False)]
            transaction.set_rollback(True)  # a measurement, not data

    def start_workers(self, count):
        procs = []
        for n in range(count):
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "mutualaid",
                        "worker",
                        "--pool=solo",
                        "--loglevel=WARNING",
                        "--without-mingle",
                        "--without-gossip",
                        f"--hostname=bench{n}@%h",
                    ],
                    cwd=settings.BASE_DIR,
                    start_new_session=True,
                )
            )
        time.sleep(5)  # let them connect
        return procs

    def run_batch(self, pool, chunk_size):
        member = (
            Membership.objects.filter(pool=pool, status="active", claims__isnull=True)
            .select_related("person")
            .first()
        )
        condition = Condition.objects.first() or Condition.objects.create(
            code="BENCH", name="Benchmark illness", category="Bench"
        )
        Claim.objects.create(
            membership=member,
            pool=pool,
            claimant=member.person.account,
            condition=condition,
            diagnosis_date=timezone.now().date(),
            hospital="bench",
            province="bench",
            status=Claim.Status.APPROVED,
            payout_cents=30_000_000,
            approved_at=timezone.now() - timezone.timedelta(seconds=1),
        )
        Account.objects.filter(kind="wallet", owner__persons__memberships__pool=pool).update(
            balance_cents=100_000
        )
        self.checkpoint()  # as `timed` does
        started = time.perf_counter()
        batch = publishing.start_batch(pool, chunk_size=chunk_size)
        figured = time.perf_counter() - started
        batch = self.wait(batch, Batch.Status.PUBLISHING)
        published = time.perf_counter() - started
        # The Merkle root is computed in the week between publication and collection day: the
        # proofs are published before money moves. It is timed on its own, not as part of (b).
        collect_started = time.perf_counter()
        if batch.status == Batch.Status.PUBLISHED:
            self.wait_for_root(batch)
            rooted = time.perf_counter() - collect_started
            self.stdout.write(f"    Merkle root stored {rooted:.2f} s after publication (not in b)")
            self.checkpoint()  # collection day is a week later: its pages written by then
            collect_started = time.perf_counter()
            collection.start_collection(batch)
            batch = self.wait(batch, Batch.Status.COLLECTING)
        collected = time.perf_counter() - collect_started
        total = published + collected
        self.stdout.write(
            f"    publish {published:.2f} s (figures and chunk ranges {figured:.2f} s, then the "
            f"chunks), collect {collected:.2f} s"
        )
        return total, batch

    @staticmethod
    def poll(done, timeout, what, interval):
        """Wait until `done()` is true, checking every `interval` seconds; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise CommandError(f"{what} after {timeout} s")
            time.sleep(interval)

    def wait_for_root(self, batch, timeout=600):
        rooted = Batch.objects.filter(pk=batch.pk).exclude(merkle_root="")
        self.poll(rooted.exists, timeout, f"batch {batch.pk} has no Merkle root", interval=0.1)

    def wait(self, batch, running_status, timeout=1800):
        def moved_on():
            batch.refresh_from_db()
            return batch.status != running_status

        self.poll(moved_on, timeout, f"batch {batch.pk} still {running_status}", interval=0.05)
        return batch

    def orm_bulk_create(self, pool):
        with transaction.atomic():
            batch = Batch.objects.create(
                pool=pool,
                status=Batch.Status.PREVIEWED,
                cutoff_at=timezone.now(),
                cap_year=1900,
            )
            buffer = []
            memberships = Membership.objects.filter(pool=pool).select_related("person")
            for membership in memberships.iterator(chunk_size=10_000):
                buffer.append(
                    Charge(
                        id=pair_key(batch.pk, membership.pk),
                        batch=batch,
                        membership=membership,
                        account_id=membership.person.account_id,
                        amount_cents=100,
                    )
                )
                if len(buffer) == 10_000:
                    Charge.objects.bulk_create(buffer)
                    buffer = []
            Charge.objects.bulk_create(buffer)
            transaction.set_rollback(True)  # a measurement, not data

    def print_table_sizes(self, batch):
        """The batch's charge partition (heap and each index, bytes a charge) and the tables
        the batch wrote to or read, after the run, as `pg_relation_size` reports them."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.relname, pg_relation_size(c.oid), c.relkind
                FROM pg_class c
                WHERE c.oid = %s::regclass
                   OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %s::regclass)
                ORDER BY c.relkind DESC, c.relname
                """,
                [partition_name(batch.pk)] * 2,
            )
            rows = cursor.fetchall()
            total = sum(size for _, size, _ in rows)
            per_row = total / max(batch.participants, 1)
            self.stdout.write(
                f"    charge partition {partition_name(batch.pk)}: {total / 2**20:,.0f} MB, "
                f"{per_row:.0f} bytes a charge ("
                + ", ".join(f"{name} {size / 2**20:,.0f} MB" for name, size, _ in rows)
                + ")"
            )
            for table in (
                "apportionment_charge",
                "ledger_entry",
                "ledger_account",
                "members_membership",
                "members_person",
            ):
                cursor.execute(
                    """
                    SELECT CASE WHEN c.relkind = 'p' THEN
                        (SELECT SUM(pg_total_relation_size(t.relid))
                         FROM pg_partition_tree(c.oid) t)
                    ELSE pg_total_relation_size(c.oid) END
                    FROM pg_class c WHERE c.oid = %s::regclass
                    """,
                    [table],
                )
                size = cursor.fetchone()[0]
                self.stdout.write(f"    {table} with indexes: {size / 2**20:,.0f} MB")

    @staticmethod
    def peak_rss_mb(pid):
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")
