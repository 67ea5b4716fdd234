"""Beat entries (django-celery-beat) that data migrations create and remove.

Takes the migration's `apps`, so it works on the historical models of the migration state.
"""


def add_interval_task(apps, name: str, task: str, seconds: int):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "interval": interval, "enabled": True}
    )


def remove_task(apps, name: str):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
