"""python manage.py bench_merkle --charges 1000000

Root time and peak memory for N charges streamed from PostgreSQL (server-side cursor over
generate_series, the same shape as a batch's charges): the root alone, the root with its
blocks (what reports.services.store_root does), and one member's proof from the blocks (one
block of charges re-hashed and the tree over the blocks, what the proof endpoint does).
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


def keyed(count, first=1):
    """(membership id, leaf) of `count` charges from `first` on, fetched in chunks from a named
    (server-side) cursor."""
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(
            "SELECT g, 100 + g %% 97 FROM generate_series(%s, %s) g ORDER BY g",
            [first, first + count - 1],
        )
        while rows := cursor.fetchmany(20_000):
            for membership_id, amount in rows:
                yield (
                    membership_id,
                    merkle.leaf(BATCH, membership_id, amount, SALT(BATCH, membership_id)),
                )


def stream(count, first=1):
    return (leaf for _, leaf in keyed(count, first))


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
        blocks = [node for _, node in merkle.block_roots(keyed(charges))]
        assert merkle.streaming_root(blocks) == root
        blocks_seconds = time.perf_counter() - started
        started = time.perf_counter()
        index = charges // 2
        position, start = divmod(index, merkle.BLOCK)[0], index - index % merkle.BLOCK
        block = list(stream(min(merkle.BLOCK, charges - start), first=start + 1))
        path = merkle.blocked_path(
            merkle.build_levels(block), index - start, merkle.build_levels(blocks), position
        )
        proof_seconds = time.perf_counter() - started
        # Memory in a second pass: tracemalloc slows Python down, so it is not timed.
        tracemalloc.start()
        merkle.streaming_root(stream(charges))
        _, root_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        sum(1 for _ in merkle.block_roots(keyed(charges)))
        _, blocks_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"charges: {charges:,}  root: {root[0].hex()}  total: {root[1]}")
        self.stdout.write(
            f"streaming root: {root_seconds:.2f} s, peak Python memory {root_peak / 2**20:.1f} MB"
        )
        self.stdout.write(
            f"root with its {len(blocks):,} blocks of {merkle.BLOCK:,} (stored): "
            f"{blocks_seconds:.2f} s, peak Python memory {blocks_peak / 2**20:.1f} MB"
        )
        self.stdout.write(
            f"one member's proof from the blocks ({len(path)} steps): {proof_seconds * 1000:.1f} ms"
        )
        self.stdout.write(f"process peak RSS: {rss:.0f} MB")
