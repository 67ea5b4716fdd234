"""Tell members what concerns them: in-app now, by email after commit.

The notification row is the outbox: it is written with the change it reports, so a broker
that is down when the transaction commits loses nothing; `resend_unsent_emails` hands it over
again once the broker is back, and the email task sends each notification at most once.
"""

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from claims.models import Claim, Notification

logger = logging.getLogger(__name__)
# A notification handed to the broker this long ago and still not sent is handed over again.
REQUEUE_AFTER = dt.timedelta(minutes=10)


def notify(recipient_id: int, text: str, claim: Claim | None = None) -> Notification:
    """An in-app notification (on the dashboard) and, once the transaction commits, an email
    with the same text through a Celery task."""
    notification = Notification.objects.create(recipient_id=recipient_id, claim=claim, text=text)

    transaction.on_commit(lambda: enqueue_email(notification.pk))
    return notification


def enqueue_email(notification_id: int) -> bool:
    """Hand one email to the broker; if the broker is down, leave it to the outbox sweep."""
    from claims.tasks import email_notification

    try:
        email_notification.apply_async(
            (notification_id,), retry=True, retry_policy={"max_retries": 1, "interval_start": 0}
        )
    except OperationalError as exc:
        logger.warning(
            "email of notification %s not queued (%s): the outbox will", notification_id, exc
        )
        return False
    Notification.objects.filter(pk=notification_id).update(email_queued_at=timezone.now())
    return True


def resend_unsent_emails(limit: int = 1000) -> int:
    """Hand over again the emails the broker never took or lost (oldest first)."""
    now = timezone.now()
    due = (
        Notification.objects.filter(
            emailed_at__isnull=True, created_at__lte=now - dt.timedelta(minutes=1)
        )
        .exclude(recipient__email="")
        .exclude(email_queued_at__gt=now - REQUEUE_AFTER)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(enqueue_email(pk) for pk in list(due))


def notify_claimant(claim: Claim, action: str):
    text = _("Claim #%(id)s is now %(status)s.") % {
        "id": claim.pk,
        "status": claim.get_status_display(),
    }
    return notify(claim.claimant_id, text, claim=claim)
