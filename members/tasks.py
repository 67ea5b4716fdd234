import datetime as dt

from celery import shared_task
from django.utils import timezone

from members.services import daily_status_sweep


@shared_task(name="members.daily_status_sweep")
def run_daily_status_sweep(today=None):
    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    return daily_status_sweep(day)
