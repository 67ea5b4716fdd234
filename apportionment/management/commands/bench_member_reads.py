"""python manage.py bench_member_reads --batches 12   (PostgreSQL only; issue 20)

A member's pages when the charge table holds `--batches` batches of the bench pool's size
(10,000,000 charges each at `bench_apportion --members 10000000`): the member's charges page,
the statement page (and its API), and a proof of one charge, each with its query count, its
best time of 5, and the plan of its charge queries (EXPLAIN ANALYZE: which scan reads each
partition and how many buffers it touched).

Needs one real batch of the bench pool (`bench_apportion` leaves it). The missing batches
are copies of it, a month apart and earlier in the same year, each written into a table of
its own, indexed, then attached as the batch's partition; they are kept for the next run.
Use a database of its own (the one `bench_apportion` filled) and drop it afterwards.
"""

import re
import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from apportionment.models import Batch, Charge
from apportionment.partitions import PARENT, partition_name
from members.models import Membership
from mutualaid import dialect
from mutualaid.benchdata import BENCH_SLUG, timed_get
from mutualaid.pairkeys import pair_key
from reports import services as report_services

SCAN = re.compile(
    r"(Index Only Scan|Index Scan|Bitmap Heap Scan|Seq Scan)\S* (?:using \S+ )?on (\S+)"
)


class Command(BaseCommand):
    help = "Plans and timings of a member's pages with many large batches of charges."

    def add_arguments(self, parser):
        parser.add_argument("--batches", type=int, default=12)

    def handle(self, batches, verbosity, **options):
        self.verbosity = verbosity
        if not dialect.is_postgres():
            raise CommandError("bench_member_reads needs PostgreSQL (set DATABASE_URL).")
        source = (
            Batch.objects.filter(pool__slug=BENCH_SLUG, participants__gt=0)
            .exclude(batch_claims=None)
            .order_by("-pk")
            .first()
        )
        if source is None:
            raise CommandError("No batch of the bench pool: run bench_apportion first.")
        if not source.merkle_root:
            report_services.store_root(source.pk)
            source.refresh_from_db()
        self.copy_batches(source, batches)
        self.report_sizes()
        member = (
            Membership.objects.filter(pool=source.pool, charges__batch=source)
            .select_related("person__account")
            .order_by("-pk")
            .first()
        )
        account = member.person.account
        charges = Charge.objects.of_account(account)
        self.stdout.write(
            f"member {account.username}: {charges.count()} charges in "
            f"{charges.values('batch').distinct().count()} batches"
        )
        client = Client()
        client.force_login(account)
        pages = [
            ("my charges", reverse("my-charges")),
            ("statement", f"{reverse('statement')}?year={source.cap_year}"),
            ("statement API", f"/api/v1/statement/?year={source.cap_year}"),
            ("proof", f"/api/v1/batches/{source.pk}/proof/"),
        ]
        for name, url in pages:
            self.measure(client, name, url)

    def copy_batches(self, source: Batch, wanted: int):
        have = Batch.objects.filter(pool=source.pool, participants=source.participants).count()
        for month in range(1, wanted - have + 1):
            started = time.perf_counter()
            with transaction.atomic():
                copy = Batch.objects.get(pk=source.pk)
                copy.pk = None
                copy.cutoff_at = source.cutoff_at - timedelta(days=30 * (have + month - 1))
                copy.cap_year = copy.cutoff_at.year
                copy.merkle_root = ""
                copy.save()  # its partition is created and attached, empty
                self.fill_partition(source.pk, copy.pk)
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {partition_name(copy.pk)}")
            self.stdout.write(
                f"copied batch {source.pk} as batch {copy.pk} (cut-off {copy.cutoff_at:%Y-%m-%d}): "
                f"{time.perf_counter() - started:.1f} s"
            )

    @staticmethod
    def fill_partition(source_id: int, batch_id: int):
        """Detach the empty partition, fill it without indexes, then attach it again: the
        indexes are built once, and the range check added first spares ATTACH its scan."""
        name = partition_name(batch_id)
        first, after = pair_key(batch_id, 0), pair_key(batch_id + 1, 0)
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
            cursor.execute(
                f"""
                INSERT INTO {name} (id, batch_id, membership_id, account_id, amount_cents,
                    capped_cents, outstanding, paid_at, written_off_at, ledger_txn_id)
                SELECT %s + membership_id, %s, membership_id, account_id, amount_cents,
                       capped_cents, outstanding, paid_at, written_off_at, ledger_txn_id
                FROM {partition_name(source_id)}
                """,
                [first, batch_id],
            )
            cursor.execute(
                f"ALTER TABLE {name} ADD CONSTRAINT {name}_range "
                f"CHECK (id >= {first} AND id < {after})"
            )
            cursor.execute(
                f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                [first, after],
            )
            cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range")

    def report_sizes(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*), SUM(pg_total_relation_size(relid)) "
                "FROM pg_partition_tree(%s::regclass) WHERE isleaf",
                [PARENT],
            )
            partitions, size = cursor.fetchone()
            cursor.execute(
                "SELECT SUM(c.reltuples)::bigint FROM pg_partition_tree(%s::regclass) t "
                "JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf",
                [PARENT],
            )
            rows = cursor.fetchone()[0]
        self.stdout.write(
            f"charge table: {partitions} partitions, about {rows:,} charges, "
            f"{size / 2**30:.1f} GB with indexes"
        )

    def measure(self, client, name, url):
        captured, best_ms, _response = timed_get(client, url)
        self.stdout.write(f"{name} {url}: {len(captured)} queries, best {best_ms:.1f} ms")
        for query in captured:
            if "apportionment_charge" in query["sql"] and query["sql"].startswith("SELECT"):
                self.explain(query["sql"])

    def explain(self, sql):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = [line for (line,) in cursor.fetchall()]
        scans = {}
        for line in plan:
            match = SCAN.search(line)
            if match and match.group(2).startswith(PARENT):
                scans[match.group(1)] = scans.get(match.group(1), 0) + 1
        buffers = next((line.strip() for line in plan if "Buffers:" in line), "")
        timing = next(line.strip() for line in plan if line.startswith("Execution Time"))
        self.stdout.write(
            f"    {sql[:90]}…\n"
            f"      charge partitions read by: "
            + (", ".join(f"{kind} × {count}" for kind, count in scans.items()) or "none")
            + f"; {buffers}; {timing}"
        )
        if self.verbosity > 1:
            self.stdout.write("\n".join(f"        {line}" for line in plan))
