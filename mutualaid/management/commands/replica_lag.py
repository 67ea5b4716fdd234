"""How long a commit on the primary takes to reach the read replica (DATABASE_REPLICA_URL).

    python manage.py replica_lag --commits 200

Commits small transactions on the primary one at a time (each writes a transactional WAL
message, so it commits as a write does: flushed before it returns) and, after each, waits until
the replica has replayed the primary's WAL up to that commit; prints the percentiles in
milliseconds. The read-your-writes
window (REPLICA_READ_YOUR_WRITES_SECONDS) should be a few seconds above the worst of them.
Writes no table.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from mutualaid import db_router

TIMEOUT_SECONDS = 30


class Command(BaseCommand):
    help = "Measure the replication lag of the read replica: commit to replayed, in ms."

    def add_arguments(self, parser):
        parser.add_argument("--commits", type=int, default=200)

    def handle(self, commits, **options):
        if db_router.REPLICA not in connections.databases:
            raise CommandError("No replica: set DATABASE_REPLICA_URL (bin/replica start).")
        if not 1 <= commits <= 100_000:
            raise CommandError("--commits must be between 1 and 100000.")
        primary = connections[DEFAULT_DB_ALIAS].cursor()
        replica = connections[db_router.REPLICA].cursor()
        replica.execute("SELECT pg_is_in_recovery()")
        if not replica.fetchone()[0]:
            raise CommandError("The replica alias is not a standby (pg_is_in_recovery is false).")
        lags = []
        for _ in range(commits):
            # Autocommit: its own transaction. (One that only took a transaction id would commit
            # asynchronously, and measure the WAL writer's delay instead.)
            primary.execute("SELECT pg_logical_emit_message(true, 'mutualaid.replica_lag', '')")
            start = time.perf_counter()
            primary.execute("SELECT pg_current_wal_insert_lsn()::text")
            lsn = primary.fetchone()[0]
            while True:
                replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
                if replica.fetchone()[0]:
                    break
                if time.perf_counter() - start > TIMEOUT_SECONDS:
                    raise CommandError(f"The replica did not replay {lsn} in {TIMEOUT_SECONDS} s.")
            lags.append((time.perf_counter() - start) * 1000)
        lags.sort()

        def at(share):
            return lags[min(len(lags) - 1, int(share * len(lags)))]

        self.stdout.write(
            f"{commits} commits, commit to replayed (ms): p50 {at(0.5):.2f}  p95 {at(0.95):.2f}  "
            f"p99 {at(0.99):.2f}  max {lags[-1]:.2f}"
        )
