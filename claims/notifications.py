"""Tell the claimant about every change of their claim: in-app now, by email after commit."""

from django.db import transaction
from django.utils.translation import gettext as _

from claims.models import Claim, Notification


def notify_claimant(claim: Claim, action: str):
    text = _("Claim #%(id)s is now %(status)s.") % {
        "id": claim.pk,
        "status": claim.get_status_display(),
    }
    notification = Notification.objects.create(recipient=claim.claimant, claim=claim, text=text)
    from claims.tasks import email_notification

    transaction.on_commit(lambda: email_notification.delay(notification.pk))
    return notification
