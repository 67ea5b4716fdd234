from celery import shared_task


@shared_task(name="pools.apply_due_rule_versions")
def apply_due_rule_versions():
    """Hourly: each pool row takes the rules in force today in its own calendar."""
    from pools.rules import apply_due_versions

    return apply_due_versions()


@shared_task(name="pools.email_notices")
def email_notices(first_id: int, last_id: int):
    """Hand to the broker, one message each, the emails of the notifications one INSERT wrote
    (ids first_id..last_id): a rule change's notice to every member of a pool."""
    from claims.models import Notification
    from claims.notifications import enqueue_email

    due = (
        Notification.objects.filter(
            pk__range=(first_id, last_id), email_queued_at__isnull=True, emailed_at__isnull=True
        )
        .exclude(recipient__email="")
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    return sum(enqueue_email(pk) for pk in due.iterator(chunk_size=2000))
