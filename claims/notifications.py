"""Tell members what concerns them: in-app now, by email after commit."""

from django.db import transaction
from django.utils.translation import gettext as _

from claims.models import Claim, Notification


def notify(recipient_id: int, text: str, claim: Claim | None = None) -> Notification:
    """An in-app notification (on the dashboard) and, once the transaction commits, an email
    with the same text through a Celery task."""
    notification = Notification.objects.create(recipient_id=recipient_id, claim=claim, text=text)
    from claims.tasks import email_notification

    transaction.on_commit(lambda: email_notification.delay(notification.pk))
    return notification


def notify_claimant(claim: Claim, action: str):
    text = _("Claim #%(id)s is now %(status)s.") % {
        "id": claim.pk,
        "status": claim.get_status_display(),
    }
    return notify(claim.claimant_id, text, claim=claim)
