"""python manage.py wind_down POOL_SLUG --announce [--closing-date YYYY-MM-DD] [--dry-run]"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pools.models import Pool, WindDown
from pools.winddown import announce_wind_down


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--closing-date {text!r} is not a date like 2026-12-31.") from exc


class Command(BaseCommand):
    help = "Announce a pool's closing (SPEC 11): no new members, no more charges, last claims."

    def add_arguments(self, parser):
        parser.add_argument("pool_slug")
        parser.add_argument("--announce", action="store_true", help="announce the closing")
        parser.add_argument(
            "--closing-date",
            metavar="YYYY-MM-DD",
            help="the first day not covered (default: today in the pool's calendar)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what it does, write nothing"
        )

    def handle(self, pool_slug, announce, closing_date, dry_run, **options):
        if not announce:
            raise CommandError(
                "Say --announce to announce the closing (with --dry-run to preview)."
            )
        pool = Pool.objects.filter(slug=pool_slug).first()
        if pool is None:
            slugs = ", ".join(Pool.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No pool {pool_slug!r}. Pools: {slugs}.")
        try:
            done = announce_wind_down(
                pool=pool,
                actor=None,
                via=WindDown.Via.COMMAND,
                closing_date=iso_date(closing_date) if closing_date else None,
                dry_run=dry_run,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        verb = "would be" if dry_run else "is"
        self.stdout.write(
            f"{pool.slug} {verb} closing: no new members and no charges from now on; covered "
            f"until {done.closing_date.isoformat()} (first day not covered); claims for "
            f"diagnoses before then accepted until {done.claims_until.isoformat()}; "
            f"{done.accounts_told} accounts {'would be' if dry_run else 'were'} told."
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
