"""The chunk engine: a batch's phase is a set of chunks (id ranges) that Celery workers run in
parallel; the engine knows nothing of what a phase does.

A phase registers two handlers: `run(chunk) -> (rows, odd cents)`, the set-based work of one
chunk in one transaction, and `complete(batch)`, called once under the batch's row lock when
its last chunk is done. Workers claim a chunk with a conditional UPDATE (pending -> running), so
a message delivered twice does nothing the second time; the sweeper re-sends chunks left behind
by a killed worker or a lost message."""

from collections.abc import Callable
from dataclasses import dataclass

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apportionment.models import Batch, BatchEvent, Chunk
from apportionment.signals import batch_published
from mutualaid import pagecache

CHUNK_TIME_LIMIT = 600  # seconds; the visibility timeout is 3600

# A batch's one state machine (status -> the statuses it may move to); `move_batch` is the one
# place a batch's status changes after its creation (as `publishing`).
BATCH_TRANSITIONS = {
    Batch.Status.PUBLISHING: (Batch.Status.PUBLISHED, Batch.Status.FAILED, Batch.Status.EMPTY),
    Batch.Status.PUBLISHED: (Batch.Status.COLLECTING,),
    Batch.Status.COLLECTING: (Batch.Status.COLLECTED,),
    Batch.Status.COLLECTED: (Batch.Status.PAID_OUT,),
}


@dataclass(frozen=True)
class Phase:
    running_status: str  # the batch's status while the phase's chunks run
    run: Callable[[Chunk], tuple[int, int]]  # one chunk's work: (rows, odd cents)
    complete: Callable[[Batch], None]  # once, when the last chunk is done


PHASES: dict[str, Phase] = {}


def register_phase(name: str, *, running_status: str, run, complete):
    """Called by each phase's module (publishing, collection) when Django starts."""
    PHASES[name] = Phase(running_status=running_status, run=run, complete=complete)


def move_batch(batch: Batch, target: str, **fields):
    """Set the batch's status (and the given fields), if the table allows the move; the caller
    holds the batch's row lock."""
    if target not in BATCH_TRANSITIONS.get(batch.status, ()):
        raise ValidationError(
            _("A batch cannot go from %(from)s to %(to)s.")
            % {"from": Batch.Status(batch.status).label, "to": Batch.Status(target).label}
        )
    batch.status = target
    for name, value in fields.items():
        setattr(batch, name, value)
    batch.save()


def create_chunks(batch: Batch, phase: str, bounds: list[tuple[int, int]]):
    """The phase's chunks over these id ranges, enqueued when the transaction commits."""
    Chunk.objects.bulk_create(
        Chunk(batch=batch, phase=phase, number=i, first_id=lo, last_id=hi)
        for i, (lo, hi) in enumerate(bounds)
    )
    transaction.on_commit(lambda: enqueue_pending_chunks(batch.pk))


def rerun_phase(batch: Batch):
    """Every chunk of the batch's running phase to be done again (their work was undone)."""
    batch.chunks.update(status=Chunk.Status.PENDING, started_at=None, rows=0, odd_cents=0)
    transaction.on_commit(lambda: enqueue_pending_chunks(batch.pk))


def record_batch_event(batch: Batch, action: str, *, actor=None, via: str = BatchEvent.Via.BEAT):
    """Put who started, collected or resumed a batch on its record (nobody: the schedule)."""
    BatchEvent.objects.create(batch=batch, action=action, actor=actor, via=via)


def batch_starter(batch: Batch):
    """The operator who started the batch (None: the schedule did)."""
    event = batch.events.filter(action=BatchEvent.Action.START).select_related("actor").first()
    return event.actor if event else None


def enqueue_pending_chunks(batch_id: int):
    for chunk_id in Chunk.objects.filter(
        batch_id=batch_id, status=Chunk.Status.PENDING
    ).values_list("pk", flat=True):
        run_chunk_task.delay(chunk_id)


def claim_chunk(chunk_id: int) -> Chunk | None:
    """Take a pending chunk for this worker: a conditional UPDATE, so only one task wins."""
    won = Chunk.objects.filter(pk=chunk_id, status=Chunk.Status.PENDING).update(
        status=Chunk.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    return Chunk.objects.select_related("batch").get(pk=chunk_id) if won else None


def run_chunk(chunk_id: int) -> str:
    """Do one chunk's work in one transaction; a rerun after a crash inserts nothing twice."""
    chunk = claim_chunk(chunk_id)
    if chunk is None:
        return "not pending"
    return run_claimed_chunk(chunk)


def run_claimed_chunk(chunk: Chunk) -> str:
    """The work of a chunk this run has claimed, under the chunk's row lock.

    The sweeper may re-send a chunk whose first run is slow but alive. Whichever run takes the
    lock first does the work and marks the chunk done; the other waits, then finds it done. So
    a collection chunk never debits twice, and charges need no ON CONFLICT, which made their
    insert twice as slow (docs/benchmarks.md); a charge's primary key is its (batch,
    membership), so a duplicate is still refused.
    """
    with transaction.atomic():
        status = Chunk.objects.select_for_update().values_list("status", flat=True).get(pk=chunk.pk)
        if status == Chunk.Status.DONE:
            return "done by another run"
        rows, odd_cents = PHASES[chunk.phase].run(chunk)
        Chunk.objects.filter(pk=chunk.pk).update(
            status=Chunk.Status.DONE, finished_at=timezone.now(), rows=rows, odd_cents=odd_cents
        )
        pagecache.bump(pagecache.MEMBERS)  # charges and balances moved set-based
    finish_phase_if_done(chunk.batch_id)
    return f"{chunk.phase} chunk {chunk.number}: {rows} rows"


def finish_phase_if_done(batch_id: int):
    """When the last chunk of the running phase is done, check and complete the phase.

    The batch row is locked FOR NO KEY UPDATE: a FOR UPDATE lock would wait for every chunk
    still running whose rows reference the batch, so each worker would idle at the end of a
    chunk until the other's chunk committed."""
    with transaction.atomic():
        batch = (
            Batch.objects.select_for_update(no_key=True)
            .filter(pk=batch_id, status__in=Batch.RUNNING_STATUSES)
            .first()
        )
        if batch is None or batch.chunks.exclude(status=Chunk.Status.DONE).exists():
            return
        phase = next(p for p in PHASES.values() if p.running_status == batch.status)
        phase.complete(batch)


def resume_batch(batch: Batch, *, actor=None, via: str = BatchEvent.Via.BEAT):
    """Re-run a failed or stuck batch: its chunks go back to pending and are enqueued."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.status == Batch.Status.FAILED:
            raise ValidationError(
                _("A batch that failed its invariant is not resumed; start a new one.")
            )
        record_batch_event(batch, BatchEvent.Action.RESUME, actor=actor, via=via)
        Chunk.objects.filter(batch=batch).exclude(status=Chunk.Status.DONE).update(
            status=Chunk.Status.PENDING, started_at=None
        )
        transaction.on_commit(lambda: enqueue_pending_chunks(batch.pk))
    return batch


def sweep_stale_chunks(stale_after_seconds: int = 900) -> int:
    """Re-enqueue chunks left behind by a lost message or a killed worker."""
    stale = timezone.now() - timezone.timedelta(seconds=stale_after_seconds)
    running = Batch.objects.filter(status__in=Batch.RUNNING_STATUSES)
    reset = Chunk.objects.filter(
        batch__in=running, status=Chunk.Status.RUNNING, started_at__lt=stale
    ).update(status=Chunk.Status.PENDING, started_at=None)
    for batch_id in running.values_list("pk", flat=True):
        enqueue_pending_chunks(batch_id)
        finish_phase_if_done(batch_id)
    # Publication's follow-up work (the Merkle root) lost with its message: announce it again.
    rootless = Batch.objects.filter(
        status__in=Batch.PUBLIC_STATUSES, merkle_root="", published_at__lt=stale
    )
    for batch in rootless:
        batch_published.send(sender=Batch, batch=batch)
    return reset


@shared_task(
    name="apportionment.run_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=CHUNK_TIME_LIMIT,
    soft_time_limit=CHUNK_TIME_LIMIT - 60,
)
def run_chunk_task(chunk_id):
    return run_chunk(chunk_id)


@shared_task(name="apportionment.sweep_stale_chunks")
def sweep_stale_chunks_task():
    return sweep_stale_chunks(stale_after_seconds=CHUNK_TIME_LIMIT + 60)
