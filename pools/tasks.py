from celery import shared_task

from pools import winddown
from pools.rule_changes import apply_due_versions


@shared_task(name="pools.apply_due_rule_versions")
def apply_due_rule_versions():
    """Hourly: each pool row takes the rules in force today in its own calendar."""
    return apply_due_versions()


@shared_task(name="pools.close_ended_wind_downs")
def close_ended_wind_downs():
    """Daily: close the pools whose last claim window after a wind-down has ended."""
    return winddown.close_ended_wind_downs()
