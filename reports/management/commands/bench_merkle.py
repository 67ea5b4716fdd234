"""python manage.py bench_merkle --charges 1000000

Root time and peak memory for N charges streamed from PostgreSQL (server-side cursor over
generate_series, the same shape as a batch's charges), and the time of one member's proof.
"""

import resource
import time
import tracemalloc

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from mutualaid import dialect
from reports import merkle

BATCH = 1
SALT = merkle.salter(b"bench-salt-key")


def stream(count):
    """Leaves of `count` charges, fetched in chunks from a named (server-side) cursor."""
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute("SELECT g, 100 + g %% 97 FROM generate_series(1, %s) g ORDER BY g", [count])
        while rows := cursor.fetchmany(20_000):
            for membership_id, amount in rows:
                yield merkle.leaf(BATCH, membership_id, amount, SALT(BATCH, membership_id))


class Command(BaseCommand):
    help = "Time the Merkle root and one proof over N charges; print peak memory."

    def add_arguments(self, parser):
        parser.add_argument("--charges", type=int, default=1_000_000)

    def handle(self, charges, **options):
        if not dialect.is_postgres():
            raise CommandError("bench_merkle needs PostgreSQL (set DATABASE_URL).")
        started = time.perf_counter()
        root = merkle.streaming_root(stream(charges))
        root_seconds = time.perf_counter() - started
        started = time.perf_counter()
        levels = merkle.build_levels(stream(charges))
        path = merkle.audit_path(levels, charges // 2)
        proof_seconds = time.perf_counter() - started
        del levels
        # Memory in a second pass: tracemalloc slows Python down, so it is not timed.
        tracemalloc.start()
        merkle.streaming_root(stream(charges))
        _, root_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        levels = merkle.build_levels(stream(charges))
        _, proof_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert merkle.root_of(levels) == root
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"charges: {charges:,}  root: {root[0].hex()}  total: {root[1]}")
        self.stdout.write(
            f"streaming root: {root_seconds:.2f} s, peak Python memory {root_peak / 2**20:.1f} MB"
        )
        self.stdout.write(
            f"one member's proof ({len(path)} steps, all levels packed): {proof_seconds:.2f} s, "
            f"peak Python memory {proof_peak / 2**20:.1f} MB"
        )
        self.stdout.write(f"process peak RSS: {rss:.0f} MB")
