from celery import shared_task

from pools.rule_changes import apply_due_versions


@shared_task(name="pools.apply_due_rule_versions")
def apply_due_rule_versions():
    """Hourly: each pool row takes the rules in force today in its own calendar."""
    return apply_due_versions()
