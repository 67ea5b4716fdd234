"""PostgreSQL restarts between two chunks of a batch, one chunk taken but not finished: the
batch completes after a rerun (the stale-chunk sweeper), with exact totals and nobody charged
twice."""

import subprocess
from pathlib import Path

import pytest
from django.db import connection

from apportionment import engine, publishing
from apportionment.models import Chunk
from tests.apportionment.helpers import approved_claim, assert_exact, bulk_members, published
from tests.conftest import wait_for
from tests.factories import PoolFactory

pytestmark = pytest.mark.fault


def restart_postgres():
    """The machine's own cluster command (see the env notes)."""
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )
    connection.close()  # this process's connection died with the server

    def answers():
        try:
            connection.ensure_connection()
        except Exception:  # noqa: BLE001 (still starting)
            connection.close()
            return False
        return True

    wait_for(answers, timeout=60, message="PostgreSQL to accept connections again")


def test_batch_completes_after_postgres_restarts_between_chunks(celery_worker_process):
    pool = PoolFactory(annual_cap_cents=10**9)
    bulk_members(pool, 59)
    approved_claim(pool, 1_000_001)
    batch = publishing.start_batch(pool, chunk_size=10)  # queued; no worker yet
    chunks = list(Chunk.objects.filter(batch=batch).order_by("number"))
    assert len(chunks) == 6
    assert engine.run_chunk(chunks[0].pk).startswith("publish chunk 0")
    assert engine.claim_chunk(chunks[1].pk)  # taken when the server went down

    restart_postgres()

    celery_worker_process()
    wait_for(
        lambda: Chunk.objects.filter(batch=batch, status=Chunk.Status.DONE).count() == 5,
        timeout=60,
        message="the other chunks done by the worker",
    )
    assert not published(batch)  # the chunk taken before the restart is still open
    assert engine.sweep_stale_chunks(stale_after_seconds=0) == 1  # the rerun
    wait_for(lambda: published(batch), timeout=60, message="the batch to publish")
    assert_exact(batch, 60)
