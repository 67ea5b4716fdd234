"""What operators need to know at a glance: are beat and the worker alive?"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from mutualaid.models import Heartbeat

HEARTBEAT_TASK_NAME = "heartbeat every minute"


@dataclass
class SchedulerStatus:
    beat_last_sent: datetime | None
    worker_last_ran: datetime | None
    worker_name: str

    @staticmethod
    def _fresh(moment):
        if moment is None:
            return False
        age = (timezone.now() - moment).total_seconds()
        return age <= settings.HEARTBEAT_STALE_SECONDS

    @property
    def beat_ok(self):
        return self._fresh(self.beat_last_sent)

    @property
    def worker_ok(self):
        return self._fresh(self.worker_last_ran)


def scheduler_status() -> SchedulerStatus:
    last = Heartbeat.objects.order_by("-ran_at").first()
    beat_sent = (
        PeriodicTask.objects.filter(name=HEARTBEAT_TASK_NAME)
        .values_list("last_run_at", flat=True)
        .first()
    )
    return SchedulerStatus(
        beat_last_sent=beat_sent or (last.scheduled_at if last else None),
        worker_last_ran=last.ran_at if last else None,
        worker_name=last.worker if last else "",
    )
