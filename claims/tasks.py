"""Celery tasks of claims. A notification's email task lives beside what enqueues it
(claims.notifications.email_notification); it is imported here so the worker registers it."""

from celery import shared_task

from claims import notifications
from claims.notifications import email_notification  # noqa: F401


@shared_task(name="claims.resend_unsent_emails")
def resend_unsent_emails():
    return notifications.resend_unsent_emails()
