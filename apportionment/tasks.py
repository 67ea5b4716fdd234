"""Celery tasks of apportionment's schedule. Beat only enqueues; each task re-checks the batch
table. The chunk tasks themselves are the engine's (apportionment.engine)."""

import datetime as dt

from celery import shared_task
from django.core.exceptions import ValidationError
from django.utils import timezone

from apportionment import arrears, collection, publishing
from apportionment.models import Batch
from pools.models import Pool


@shared_task(name="apportionment.publish_pool")
def publish_pool(pool_id):
    """Scheduled publication (00:00 on the pool's publication days): cut-off T = start of day."""
    pool = Pool.objects.get(pk=pool_id)
    cutoff = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    if Batch.objects.filter(pool=pool, cutoff_at=cutoff).exists():
        return "already published for this cut-off"
    try:
        batch = publishing.start_batch(pool, cutoff)
    except publishing.BatchAlreadyRunning as exc:
        return str(exc.message)
    return f"batch {batch.pk}: {batch.status}"


@shared_task(name="apportionment.collect_pool")
def collect_pool(pool_id):
    """Scheduled collection: the pool's oldest published batch (one batch of a pool runs at a
    time; a later one waits for the next collection day or an operator)."""
    running = Batch.objects.filter(pool_id=pool_id, status__in=Batch.RUNNING_STATUSES).first()
    if running:
        return f"batch {running.pk} of this pool is still running"
    published = Batch.objects.filter(pool_id=pool_id, status=Batch.Status.PUBLISHED)
    batch = published.order_by("cutoff_at", "pk").first()
    if batch is None:
        return "no published batch to collect"
    try:
        collection.start_collection(batch)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return f"collecting batch {batch.pk}"


@shared_task(name="apportionment.retry_unpaid_charges")
def retry_unpaid_charges(today=None):
    today = dt.date.fromisoformat(today) if today else timezone.localdate()
    return arrears.daily_retry_and_lapse(today)
