"""Tell members what concerns them: in-app now, by email after commit.

The notification row is the outbox: it is written with the change it reports, so a broker
that is down when the transaction commits loses nothing; `resend_unsent_emails` hands it over
again once the broker is back, and the email task sends each notification at most once.
"""

import datetime as dt
import logging

from celery import shared_task
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from claims.models import Claim, Notification
from members.languages import in_language_of

logger = logging.getLogger(__name__)
# A notification handed to the broker this long ago and still not sent is handed over again.
REQUEUE_AFTER = dt.timedelta(minutes=10)


def notify(recipient_id: int, message, claim: Claim | None = None) -> Notification:
    """An in-app notification (on the dashboard) and, once the transaction commits, an email
    with the same text through a Celery task; written in the recipient's language (`message`
    is a lazy translation or a function that composes one)."""
    text = in_language_of(recipient_id, message)
    notification = Notification.objects.create(recipient_id=recipient_id, claim=claim, text=text)

    transaction.on_commit(lambda: enqueue_email(notification.pk))
    return notification


def notify_many(recipient_ids, text: str) -> int:
    """The same notification to every account a QuerySet of account ids selects (a pool's
    members): one INSERT … SELECT, however many; their emails handed to the broker after
    commit by one task. Returns how many were written."""
    from mutualaid import pagecache

    sql, params = recipient_ids.query.sql_with_params()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Notification._meta.db_table} (recipient_id, text, created_at)
                SELECT DISTINCT recipients.*, %s, %s FROM ({sql}) recipients""",
            # Adapted as the ORM would store it: on SQLite a raw datetime is stored in another
            # text form, and the rows were not found again below (no email was queued).
            [text, connection.ops.adapt_datetimefield_value(now), *params],
        )
    # The rows just written (the outbox's index: unsent, by creation time).
    written = Notification.objects.filter(created_at=now, text=text, emailed_at__isnull=True)
    summary = written.aggregate(count=Count("pk"), first=Min("pk"), last=Max("pk"))
    if summary["count"]:
        pagecache.bump(pagecache.MEMBERS)  # on each recipient's dashboard
        first, last = summary["first"], summary["last"]
        transaction.on_commit(lambda: email_notifications_between.delay(first, last))
    return summary["count"]


@shared_task(name="claims.email_notifications_between")
def email_notifications_between(first_id: int, last_id: int) -> int:
    """Hand to the broker, one message each, the emails of the notifications one INSERT wrote
    (notify_many); any still unsent later are the outbox sweep's."""
    due = (
        Notification.objects.filter(
            pk__range=(first_id, last_id), email_queued_at__isnull=True, emailed_at__isnull=True
        )
        .exclude(recipient__email="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(enqueue_email(pk) for pk in due.iterator(chunk_size=2000))


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
    def message():
        return _("Claim #%(id)s is now %(status)s.") % {
            "id": claim.pk,
            "status": claim.get_status_display(),
        }

    return notify(claim.claimant_id, message, claim=claim)
