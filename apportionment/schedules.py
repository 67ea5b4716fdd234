"""Each pool's apportionment schedule as django-celery-beat entries (editable in the admin)."""

import json

from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


def _crontab(days: str, hour: int) -> CrontabSchedule:
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour=str(hour),
        day_of_month=days,
        month_of_year="*",
        day_of_week="*",
        timezone="UTC",
    )
    return schedule


def sync_pool_schedules(pool):
    """Publish at 00:00 on the publication days, collect at 00:00 on the collection days."""
    for kind, days, task in (
        ("publish", pool.publish_days, "apportionment.publish_pool"),
        ("collect", pool.collect_days, "apportionment.collect_pool"),
    ):
        PeriodicTask.objects.update_or_create(
            name=f"{kind} batches of pool {pool.slug}",
            defaults={
                "task": task,
                "crontab": _crontab(days.replace(" ", ""), 0),
                "interval": None,
                "args": json.dumps([pool.pk]),
                "enabled": pool.is_open,
            },
        )


def sync_engine_schedules():
    """The sweeper (every minute) and the daily retry of unpaid charges (01:00)."""
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="re-enqueue stale apportionment chunks",
        defaults={"task": "apportionment.sweep_stale_chunks", "interval": every_minute},
    )
    PeriodicTask.objects.update_or_create(
        name="retry unpaid charges and lapse memberships",
        defaults={"task": "apportionment.retry_unpaid_charges", "crontab": _crontab("*", 1)},
    )
