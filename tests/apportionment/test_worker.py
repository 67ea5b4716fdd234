"""Batches through a real Celery worker on Redis, including a worker killed mid-batch."""

import threading

from django.db import connection
from django.db.models import Sum

from apportionment import apportionment
from apportionment.models import Batch, Charge, Chunk
from tests.apportionment.conftest import approved_claim, bulk_members
from tests.conftest import wait_for
from tests.factories import PoolFactory


def assert_exact(batch, participants):
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PUBLISHED, batch.message
    charges = Charge.objects.filter(batch=batch)
    assert charges.count() == participants == batch.participants
    assert charges.values("membership_id").distinct().count() == participants, (
        "a membership was charged twice"
    )
    total = charges.aggregate(s=Sum("amount_cents"))["s"]
    assert total + batch.subsidy_cents == batch.amount_cents


def published(batch):
    batch.refresh_from_db()
    return batch.status != Batch.Status.PUBLISHING


def test_batch_over_several_chunks_completes_in_a_worker(celery_worker_process):
    pool = PoolFactory(annual_cap_cents=10**9)
    bulk_members(pool, 2_499)
    approved_claim(pool, 30_000_000)
    celery_worker_process(concurrency=2)
    batch = apportionment.start_batch(pool, chunk_size=300)
    wait_for(lambda: published(batch), timeout=60, message="the batch to publish")
    assert batch.chunks.filter(status=Chunk.Status.DONE).count() == 9
    assert_exact(batch, 2_500)


def test_worker_killed_mid_batch_is_completed_by_a_rerun(celery_worker_process):
    pool = PoolFactory(annual_cap_cents=10**9)
    bulk_members(pool, 300_000)
    approved_claim(pool, 30_000_000)
    worker = celery_worker_process(concurrency=1)
    batch = apportionment.start_batch(pool, chunk_size=30_000)
    wait_for(
        lambda: (
            batch.chunks.filter(status=Chunk.Status.RUNNING).exists()
            and batch.chunks.filter(status=Chunk.Status.DONE).exists()
        ),
        timeout=120,
        interval=0.05,
        message="one chunk done and the next one running",
    )
    worker.kill()  # SIGKILL: the running chunk's transaction is rolled back
    killed_state = dict(
        done=batch.chunks.filter(status=Chunk.Status.DONE).count(),
        charges=Charge.objects.filter(batch=batch).count(),
    )
    assert killed_state["done"] < 11 and killed_state["charges"] < 300_001
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PUBLISHING

    celery_worker_process(concurrency=2)
    # The sweeper (run by beat every minute) re-enqueues the chunk the dead worker held.
    apportionment.sweep_stale_chunks(stale_after_seconds=0)
    wait_for(lambda: published(batch), timeout=180, message="the rerun to complete the batch")
    assert_exact(batch, 300_001)
    assert max(batch.chunks.values_list("attempts", flat=True)) >= 1


def test_two_concurrent_starts_run_one_batch(transactional_db):
    pool = PoolFactory()
    bulk_members(pool, 100)
    approved_claim(pool, 10_000)
    barrier = threading.Barrier(2)
    outcomes = []

    def start():
        try:
            barrier.wait()
            outcomes.append(apportionment.start_batch(pool).pk)
        except apportionment.BatchAlreadyRunning as exc:
            outcomes.append(str(exc.message))
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, str)]
    assert len(started) == 1 and len(refused) == 1, outcomes
    assert "running" in refused[0] or "starting" in refused[0]
    assert Batch.objects.filter(pool=pool).count() == 1
