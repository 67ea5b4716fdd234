"""Tell members what concerns them: in-app now, by email after commit.

The notification row is the outbox: it is written with the change it reports, so a broker
that is down when the transaction commits loses nothing; `resend_unsent_emails` hands it over
again once the broker is back, and the email task sends each notification at most once.
"""

import datetime as dt
import logging

from celery import shared_task
from django.core.mail import send_mail
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


@shared_task(
    name="claims.email_notification",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=10,
)
def email_notification(notification_id):
    """Send once: the row is claimed with a conditional update, so a rerun sends nothing."""
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    if not notification.recipient.email:
        return "no address"
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return "already sent"
    try:
        send_mail(
            subject=notification.text,
            message=notification.text,
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
    except OSError:
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return "sent"


def enqueue_email(notification_id: int) -> bool:
    """Hand one email to the broker; if the broker is down, leave it to the outbox sweep."""
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
