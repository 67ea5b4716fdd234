"""python manage.py recompute_merkle_roots [--all]

Publishes, for every batch whose root is of the earlier unsummed, unsalted tree, the root of
the summed, salted tree (SPEC 7); the old root stays in the batch's history (RetiredMerkleRoot).
With --all, every public batch (after the salt key was changed); that also stores the Merkle
blocks of batches rooted before blocks existed, ahead of their first proof.
"""

from django.core.management.base import BaseCommand

from apportionment.models import Batch
from reports.services import recompute_root


class Command(BaseCommand):
    help = "Recompute published Merkle roots under today's tree rules, keeping the old ones."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every public batch")

    def handle(self, all, **options):
        batches = Batch.objects.filter(
            status__in=Batch.PUBLIC_STATUSES,
            archived_at__isnull=True,  # archives keep theirs
        ).exclude(merkle_root="")
        if not all:
            batches = batches.filter(merkle_total_cents__isnull=True)
        reason = "salt key changed" if all else "summed, salted tree (SPEC 7)"
        changed = 0
        for batch in batches.order_by("pk").iterator():
            if recompute_root(batch, reason):
                changed += 1
                self.stdout.write(f"batch {batch.pk}: new root published, old one kept")
        self.stdout.write(f"{changed} root(s) recomputed.")
