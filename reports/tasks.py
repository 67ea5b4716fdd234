"""Celery tasks of the open books, and the handler that enqueues a published batch's root."""

import logging

from celery import shared_task
from django.db import transaction
from kombu.exceptions import OperationalError

from reports import services

log = logging.getLogger(__name__)


@shared_task(name="reports.store_root", acks_late=True)
def store_root_task(batch_id):
    return services.store_root(batch_id)


def on_batch_published(sender=None, batch=None, **kwargs):
    """The root of a published batch's charges is computed by a task once publication commits:
    seconds of hashing at a million charges, kept out of the transaction that holds the batch.
    A lost task is enqueued again by apportionment's sweeper, which sends the signal again."""

    def enqueue():
        try:
            store_root_task.delay(batch.pk)
        except OperationalError:
            log.warning("broker unreachable: the root of batch %s waits for the sweeper", batch.pk)

    transaction.on_commit(enqueue)
