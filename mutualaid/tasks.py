from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from mutualaid.models import Heartbeat

HEARTBEAT_KEEP = 1000


@shared_task(name="mutualaid.heartbeat")
def heartbeat(scheduled_at=None):
    """Record that beat sent and a worker ran this task; keep the table short."""
    request = heartbeat.request
    sent = parse_datetime(scheduled_at) if scheduled_at else None
    if sent is None and request.eta:
        sent = parse_datetime(str(request.eta))
    Heartbeat.objects.create(
        scheduled_at=sent or timezone.now(), worker=request.hostname or "unknown"
    )
    stale = Heartbeat.objects.order_by("-ran_at").values_list("pk", flat=True)[HEARTBEAT_KEEP:]
    Heartbeat.objects.filter(pk__in=list(stale[:HEARTBEAT_KEEP])).delete()
