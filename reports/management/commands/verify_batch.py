"""python manage.py verify_batch BATCH_ID — recompute the Merkle root and compare."""

from django.core.management.base import BaseCommand, CommandError

from apportionment.models import Batch
from reports.services import compute_root


class Command(BaseCommand):
    help = "Recompute a batch's Merkle root from the database and compare it with the stored one."

    def add_arguments(self, parser):
        parser.add_argument("batch_id", type=int)

    def handle(self, batch_id, **options):
        batch = Batch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"No batch {batch_id}.")
        if not batch.merkle_root:
            raise CommandError(f"Batch {batch_id} has no stored root (status {batch.status}).")
        recomputed = compute_root(batch.pk)
        if recomputed != batch.merkle_root:
            raise CommandError(
                f"MISMATCH for batch {batch_id}: stored root {batch.merkle_root}, "
                f"charges in the database give {recomputed}. A charge was changed after "
                "publication."
            )
        self.stdout.write(f"batch {batch_id}: root {recomputed} matches its charges.")
