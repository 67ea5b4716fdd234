from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from claims.models import Notification


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


@shared_task(name="claims.resend_unsent_emails")
def resend_unsent_emails():
    from claims.notifications import resend_unsent_emails as resend

    return resend()
