"""Batches through a real Celery worker on Redis, including a worker killed mid-batch."""

import threading

from django.db import connection

from apportionment import collection, engine, publishing
from apportionment.models import Batch, Charge, Chunk
from tests.apportionment.helpers import approved_claim, assert_exact, bulk_members, published
from tests.conftest import wait_for
from tests.factories import PoolFactory


def test_batch_over_several_chunks_completes_in_a_worker(celery_worker_process):
    pool = PoolFactory(annual_cap_cents=10**9)
    bulk_members(pool, 2_499)
    approved_claim(pool, 30_000_000)
    celery_worker_process(concurrency=2)
    batch = publishing.start_batch(pool, chunk_size=300)
    wait_for(lambda: published(batch), timeout=60, message="the batch to publish")
    assert batch.chunks.filter(status=Chunk.Status.DONE).count() == 9
    assert_exact(batch, 2_500)


def test_worker_killed_mid_batch_is_completed_by_a_rerun(celery_worker_process):
    pool = PoolFactory(annual_cap_cents=10**9)
    bulk_members(pool, 300_000)
    approved_claim(pool, 30_000_000)
    worker = celery_worker_process(concurrency=1)
    batch = publishing.start_batch(pool, chunk_size=30_000)
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
    engine.sweep_stale_chunks(stale_after_seconds=0)
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
            outcomes.append(publishing.start_batch(pool).pk)
        except publishing.BatchAlreadyRunning as exc:
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


def test_a_batch_puts_its_claims_and_its_operator_on_the_record(celery_worker_process):
    """Apportioned and paid are claim transitions like any other (SPEC 4): one event each and
    evidence-log records, written set-based by the worker; the chain still verifies after."""
    from django.core.management import call_command

    from apportionment.models import BatchEvent
    from claims.models import Claim, EvidenceRecord
    from tests.factories import UserFactory

    pool = PoolFactory(annual_cap_cents=10**9)
    bulk_members(pool, 99)
    claims = [approved_claim(pool, 1_000_000), approved_claim(pool, 2_000_000)]
    operator = UserFactory(username="op", is_staff=True)
    celery_worker_process(concurrency=1)
    batch = publishing.start_batch(pool, actor=operator, via=BatchEvent.Via.ADMIN)
    wait_for(lambda: published(batch), timeout=60, message="the batch to publish")
    collection.start_collection(batch)
    wait_for(
        lambda: Batch.objects.get(pk=batch.pk).status == Batch.Status.PAID_OUT,
        timeout=60,
        message="the batch to be collected and paid out",
    )
    for claim in claims:
        claim.refresh_from_db()
        assert claim.status == Claim.Status.PAID
        moves = list(claim.events.values_list("action", "from_status", "to_status", "actor"))
        assert moves == [
            ("apportion", "approved", "apportioned", operator.pk),
            ("pay", "apportioned", "paid", None),
        ]
        kinds = [
            r.kind for r in EvidenceRecord.objects.filter(payload__claim=claim.pk).order_by("seq")
        ]
        assert kinds == ["claim.apportion", "claim.pay"]
    events = list(batch.events.values_list("action", "actor", "via"))
    assert events == [("start", operator.pk, "admin"), ("collect", None, "beat")]
    call_command("verify_evidence")  # exits non-zero on a broken chain
