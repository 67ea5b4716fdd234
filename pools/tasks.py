from celery import shared_task

from pools import winddown


@shared_task(name="pools.close_ended_wind_downs")
def close_ended_wind_downs():
    """Daily: close the pools whose last claim window after a wind-down has ended."""
    return winddown.close_ended_wind_downs()
