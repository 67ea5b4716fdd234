from django.db import models


class Heartbeat(models.Model):
    """One row per run of the periodic heartbeat task.

    `scheduled_at` is when beat sent it, `ran_at` when a worker ran it: the admin index shows
    both, so a stopped beat or a stopped worker is visible at a glance.
    """

    scheduled_at = models.DateTimeField(null=True, blank=True)
    ran_at = models.DateTimeField(auto_now_add=True, db_index=True)
    worker = models.CharField(max_length=200)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self):
        return f"heartbeat from {self.worker} at {self.ran_at:%Y-%m-%d %H:%M:%S}"
