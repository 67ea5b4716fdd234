from celery import shared_task

from reports import services


@shared_task(name="reports.store_root", acks_late=True)
def store_root_task(batch_id):
    return services.store_root(batch_id)
