from celery import shared_task


@shared_task(name="notice.close_ended_notices")
def close_ended_notices():
    from notice import services

    return services.close_ended_notices()


@shared_task(name="notice.close_ended_panels")
def close_ended_panels():
    from notice import services

    return services.close_ended_panels()
