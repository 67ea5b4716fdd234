"""python manage.py bench_status_sweep --members 1000000   (PostgreSQL)

Puts the benchmark pool's memberships back in their waiting period ending yesterday (and
removes the history rows earlier runs wrote for them, so every run starts from the same state),
then times the daily sweep that activates them (one UPDATE … RETURNING feeding the INSERT of
history rows), and prints the process's peak RSS.
"""

import datetime as dt
import resource
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from members.models import Membership
from members.services import daily_status_sweep
from mutualaid import dialect
from mutualaid.benchdata import ensure_bench_members


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Time the daily membership status sweep over N memberships."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=1_000_000)
        parser.add_argument(
            "--every",
            type=int,
            default=1,
            help="1 in EVERY memberships ends its waiting period today (90: a typical day)",
        )

    def handle(self, members, every, **options):
        if not dialect.is_postgres():
            raise CommandError("bench_status_sweep needs PostgreSQL (set DATABASE_URL).")
        try:
            pool = ensure_bench_members(members, self.stdout)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        today = dt.date.today()
        reset = Membership.objects.filter(pool=pool).update(
            status="waiting", waiting_ends_on=today + dt.timedelta(days=30), active_since=None
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE members_membership SET waiting_ends_on = %s "
                "WHERE pool_id = %s AND id %% %s = 0",
                [today - dt.timedelta(days=1), pool.pk, every],
            )
            cursor.execute(
                "DELETE FROM members_membershipstatuschange WHERE membership_id IN "
                "(SELECT id FROM members_membership WHERE pool_id = %s)",
                [pool.pk],
            )
            cursor.execute("VACUUM ANALYZE members_membership")
            cursor.execute("VACUUM ANALYZE members_membershipstatuschange")
        before = rss_mb()
        started = time.perf_counter()
        result = daily_status_sweep(today)
        seconds = time.perf_counter() - started
        self.stdout.write(f"memberships in the pool: {reset:,}")
        self.stdout.write(f"sweep: {seconds:.2f} s — {result}")
        self.stdout.write(f"peak RSS: {rss_mb():.0f} MB (before the sweep: {before:.0f} MB)")
