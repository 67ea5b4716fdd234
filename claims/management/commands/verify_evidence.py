"""python manage.py verify_evidence — recompute the evidence chain and every file's digest."""

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from claims.evidence_log import GENESIS, chain_hash, record_of
from claims.models import Evidence, EvidenceRecord


class Command(BaseCommand):
    help = "Check the append-only evidence log and the stored files; name the first bad record."

    def handle(self, **options):
        previous, count = GENESIS, 0
        files = dict(Evidence.objects.values_list("pk", "path"))
        for row in EvidenceRecord.objects.order_by("seq").iterator(chunk_size=5_000):
            count += 1
            if row.prev_hash != previous or chain_hash(previous, record_of(row)) != row.hash:
                raise CommandError(
                    f"record #{row.seq} ({row.kind}) does not match the chain: the record or "
                    "one before it was altered."
                )
            if row.file_sha256:
                path = Path(settings.EVIDENCE_ROOT) / files.get(row.payload.get("evidence"), "")
                if not path.is_file():
                    raise CommandError(f"record #{row.seq}: the file {path} is missing.")
                if hashlib.sha256(path.read_bytes()).hexdigest() != row.file_sha256:
                    raise CommandError(
                        f"record #{row.seq}: the file {path.name} was changed after upload."
                    )
            previous = row.hash
        self.stdout.write(f"evidence log OK: {count} records, head {previous}")
