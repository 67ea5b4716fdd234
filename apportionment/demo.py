"""Demo batch: the adult pool's approved claims apportioned once (idempotent)."""

from apportionment import apportionment
from apportionment.models import Batch


def seed(ctx):
    pool = ctx["pools"]["critical-illness-adults"]
    if Batch.objects.filter(pool=pool).exists():
        return
    batch = apportionment.start_batch(pool)
    # Run the chunks here rather than waiting for a worker, so the demo starts with figures.
    for chunk_id in batch.chunks.values_list("pk", flat=True):
        apportionment.run_chunk(chunk_id)
    ctx["batch"] = batch
