"""python manage.py apportion POOL_SLUG [--dry-run] [--wait] [--collect [BATCH_ID]]"""

import sys
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apportionment import collection, figures, publishing
from apportionment.models import Batch, BatchEvent, Chunk
from mutualaid.templatetags.money import cents
from pools.models import Pool

OLDEST = 0  # --collect without a batch id

FIGURES = [
    ("claims", "claims included"),
    ("payouts_cents", "payouts P"),
    ("fee_cents", "fee F"),
    ("surplus_cents", "surplus U"),
    ("carried_in_cents", "carried forward D (charges written off)"),
    ("amount_cents", "to collect A = P + F - U + D"),
    ("participants", "participants N"),
    ("base_share_cents", "base share"),
    ("remainder_cents", "odd cents (members paying base + 0.01)"),
    ("subsidy_cents", "sponsor subsidy S (annual cap)"),
    ("chunks", "chunks"),
]


class Command(BaseCommand):
    help = "Preview or run an apportionment batch of a pool."

    def add_arguments(self, parser):
        parser.add_argument("pool_slug")
        parser.add_argument(
            "--dry-run", action="store_true", help="show every figure, write nothing"
        )
        parser.add_argument("--wait", action="store_true", help="wait and show progress")
        parser.add_argument("--chunk-size", type=int, default=figures.DEFAULT_CHUNK_SIZE)
        parser.add_argument(
            "--collect",
            nargs="?",
            const=OLDEST,
            type=int,
            metavar="BATCH_ID",
            help="collect a published batch: this one, or without an id the oldest published",
        )

    def handle(self, pool_slug, dry_run, wait, chunk_size, collect, **options):
        pool = Pool.objects.filter(slug=pool_slug).first()
        if pool is None:
            slugs = ", ".join(Pool.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No pool {pool_slug!r}. Pools: {slugs}.")
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        if dry_run:
            self.show(figures.preview(pool, chunk_size=chunk_size))
            return
        try:
            if collect is not None:
                batch = collection.start_collection(
                    self.batch_to_collect(pool, collect), via=BatchEvent.Via.COMMAND
                )
            else:
                batch = publishing.start_batch(
                    pool, chunk_size=chunk_size, via=BatchEvent.Via.COMMAND
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Batch #{batch.pk}: {batch.get_status_display()}. {batch.message}")
        if wait and batch.status in Batch.RUNNING_STATUSES:
            batch = self.follow(batch)
        if batch.status == Batch.Status.FAILED:
            raise CommandError(batch.message)

    @staticmethod
    def batch_to_collect(pool, batch_id):
        published = Batch.objects.filter(pool=pool, status=Batch.Status.PUBLISHED)
        if batch_id == OLDEST:
            batch = published.order_by("cutoff_at", "pk").first()
            if batch is None:
                raise CommandError("This pool has no published batch to collect.")
            return batch
        batch = Batch.objects.filter(pool=pool, pk=batch_id).first()
        if batch is None:
            raise CommandError(f"Pool {pool.slug} has no batch #{batch_id}.")
        if batch.status != Batch.Status.PUBLISHED:
            raise CommandError(
                f"Batch #{batch_id} is {batch.get_status_display()}: only a published batch "
                "is collected."
            )
        return batch

    def show(self, figures):
        for key, label in FIGURES:
            value = figures[key]
            shown = cents(value) if key.endswith("_cents") and key != "remainder_cents" else value
            self.stdout.write(f"  {label:<42} {shown}")
        if figures["sponsor_reason"]:
            self.stdout.write(f"The sponsor pays the whole amount: {figures['sponsor_reason']}.")
        if figures["message"]:
            self.stdout.write(figures["message"])

    def follow(self, batch):
        """A progress bar on a terminal, one line per change elsewhere."""
        last = None
        while True:
            batch.refresh_from_db()
            chunks = batch.chunks.all()
            done = chunks.filter(status=Chunk.Status.DONE).count()
            total = chunks.count()
            if (done, total) != last:
                width = 30
                filled = width * done // max(total, 1)
                line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} chunks"
                if sys.stdout.isatty():
                    self.stdout.write(f"\r{line}", ending="")
                else:
                    self.stdout.write(line)
                last = (done, total)
            if batch.status not in Batch.RUNNING_STATUSES:
                self.stdout.write("")
                self.stdout.write(
                    f"Batch #{batch.pk}: {batch.get_status_display()}. {batch.message}"
                )
                return batch
            time.sleep(0.5)
