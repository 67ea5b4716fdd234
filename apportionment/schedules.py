"""Each pool's apportionment schedule as django-celery-beat entries (editable in the admin).

Every function takes an optional app registry, so a migration passes its historical models
(`apps`) and the rules still live here once.
"""

import json

from django.apps import apps as live_apps


def _beat_model(name: str, apps=None):
    return (apps or live_apps).get_model("django_celery_beat", name)


def crontab(days: str, hour: int, apps=None, minute: int = 0):
    """The UTC crontab at minute:hour on the given days of the month ("*": every day)."""
    schedule, _ = _beat_model("CrontabSchedule", apps).objects.get_or_create(
        minute=str(minute),
        hour=str(hour),
        day_of_month=days,
        month_of_year="*",
        day_of_week="*",
        timezone="UTC",
    )
    return schedule


def sync_pool_schedules(pool, apps=None):
    """Publish at 00:00 on the publication days, collect at 00:00 on the collection days."""
    PeriodicTask = _beat_model("PeriodicTask", apps)
    for kind, days, task in (
        ("publish", pool.publish_days, "apportionment.publish_pool"),
        ("collect", pool.collect_days, "apportionment.collect_pool"),
    ):
        PeriodicTask.objects.update_or_create(
            name=f"{kind} batches of pool {pool.slug}",
            defaults={
                "task": task,
                "crontab": crontab(days.replace(" ", ""), 0, apps),
                "interval": None,
                "args": json.dumps([pool.pk]),
                "enabled": pool.is_open,
            },
        )


def sync_engine_schedules(apps=None):
    """The sweeper (every minute) and the daily retry of unpaid charges (01:00)."""
    PeriodicTask = _beat_model("PeriodicTask", apps)
    every_minute, _ = _beat_model("IntervalSchedule", apps).objects.get_or_create(
        every=60, period="seconds"
    )
    PeriodicTask.objects.update_or_create(
        name="re-enqueue stale apportionment chunks",
        defaults={"task": "apportionment.sweep_stale_chunks", "interval": every_minute},
    )
    PeriodicTask.objects.update_or_create(
        name="retry unpaid charges and lapse memberships",
        defaults={"task": "apportionment.retry_unpaid_charges", "crontab": crontab("*", 1, apps)},
    )
