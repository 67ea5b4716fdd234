"""python manage.py verify_batch BATCH_ID — recompute the Merkle root and its sum, and compare."""

from django.core.management.base import BaseCommand, CommandError

from apportionment.models import Batch
from reports.services import compute_root


class Command(BaseCommand):
    help = (
        "Recompute a batch's summed Merkle root from the database and compare it, and its sum, "
        "with the published root and the batch's charges total (A - S)."
    )

    def add_arguments(self, parser):
        parser.add_argument("batch_id", type=int)

    def handle(self, batch_id, **options):
        batch = Batch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"No batch {batch_id}.")
        if not batch.merkle_root:
            raise CommandError(f"Batch {batch_id} has no stored root (status {batch.status}).")
        if batch.merkle_total_cents is None:
            raise CommandError(
                f"Batch {batch_id} has a root of the earlier unsummed tree: run "
                "recompute_merkle_roots."
            )
        root, total = compute_root(batch.pk)
        if root != batch.merkle_root or total != batch.merkle_total_cents:
            raise CommandError(
                f"MISMATCH for batch {batch_id}: published root {batch.merkle_root} with total "
                f"{batch.merkle_total_cents}, charges in the database give {root} with total "
                f"{total}. A charge was changed after publication."
            )
        charges_total = batch.amount_cents - batch.subsidy_cents
        if total != charges_total:
            raise CommandError(
                f"MISMATCH for batch {batch_id}: the root's total {total} is not the batch's "
                f"charges total A - S = {batch.amount_cents} - {batch.subsidy_cents} = "
                f"{charges_total}."
            )
        self.stdout.write(
            f"batch {batch_id}: root {root} and total {total} (= A - S) match its charges."
        )
