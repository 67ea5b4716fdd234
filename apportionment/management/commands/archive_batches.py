"""python manage.py archive_batches --before 2026-01-01 [--dry-run]"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apportionment import archive


class Command(BaseCommand):
    help = (
        "Write the charges of settled batches cut off before DATE to verified compressed files "
        "(ARCHIVE_ROOT) and detach them from the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="a date, YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="list the batches only")

    def handle(self, before, dry_run, **options):
        try:
            day = dt.date.fromisoformat(before)
        except ValueError:
            raise CommandError(f"--before {before!r} is not a date (YYYY-MM-DD).") from None
        if day > timezone.localdate():
            raise CommandError("--before is in the future: only past batches are archived.")
        cutoff = timezone.make_aware(dt.datetime.combine(day, dt.time()))
        batches = archive.archivable(cutoff)
        if not batches:
            self.stdout.write("No settled batch to archive before that date.")
            return
        for batch in batches:
            if dry_run:
                self.stdout.write(f"would archive batch {batch.pk} ({batch.participants} charges)")
                continue
            try:
                path = archive.archive_batch(batch)
            except ValidationError as exc:
                raise CommandError(f"batch {batch.pk}: {' '.join(exc.messages)}") from exc
            self.stdout.write(f"batch {batch.pk}: {batch.participants} charges -> {path}")
