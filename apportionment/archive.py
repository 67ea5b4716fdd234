"""Archiving old batches (issue 20): a batch's charges leave the database for a compressed file
that still proves them.

The partition of a settled batch (paid out, nothing outstanding, its Merkle root stored) is
copied to `ARCHIVE_ROOT/charges-batch-<id>.csv.gz`, read back and checked against the batch's
Merkle root, its sum and its participants, and only then detached and dropped. The batch row
keeps the file's name and SHA-256, so anyone holding the file can verify it (`verify_archive`).
"""

import csv
import gzip
import hashlib
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apportionment import partitions
from apportionment.models import Batch, Charge
from mutualaid import dialect
from reports import services as report_services

COLUMNS = (
    "id",
    "batch_id",
    "membership_id",
    "account_id",
    "amount_cents",
    "capped_cents",
    "outstanding",
    "paid_at",
    "written_off_at",
    "ledger_txn_id",
)


def archivable(before) -> "list[Batch]":
    """Settled batches cut off before `before` and still in the database."""
    return list(
        Batch.objects.filter(
            cutoff_at__lt=before,
            status=Batch.Status.PAID_OUT,
            archived_at__isnull=True,
        )
        .exclude(merkle_root="")
        .order_by("pk")
    )


def _problem(batch: Batch) -> str:
    if not dialect.is_postgres():
        return _("Archiving needs PostgreSQL (the charges' partitions).")
    if batch.archived_at:
        return _("Batch #%(id)s is archived already.") % {"id": batch.pk}
    if batch.status != Batch.Status.PAID_OUT or not batch.merkle_root:
        return _("Only a paid-out batch with its Merkle root is archived.")
    if Charge.objects.of_batch(batch.pk).filter(outstanding=True).exists():
        return _("Batch #%(id)s still has unpaid charges.") % {"id": batch.pk}
    return ""


def archive_batch(batch: Batch) -> Path:
    """Write, verify, record and detach one batch's charges; returns the file. Checked on the
    locked row (two runs may list the same batch), and written beside the file it becomes: an
    archive already there is replaced only by a verified one."""
    root = Path(settings.ARCHIVE_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"charges-batch-{batch.pk}.csv.gz"
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        problem = _problem(batch)
        if problem:
            raise ValidationError(problem)
        partial = path.with_name(f"{path.name}.partial")
        try:
            _write(batch, partial)
            verify_archive(batch, partial)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        batch.archived_at = timezone.now()
        batch.archive_file = path.name
        batch.archive_sha256 = _sha256(path)
        batch.save(update_fields=["archived_at", "archive_file", "archive_sha256"])
        partitions.detach_partition(batch.pk)
    return path


def _write(batch: Batch, path: Path):
    query = (
        f"COPY (SELECT {', '.join(COLUMNS)} FROM {partitions.partition_name(batch.pk)} "
        "ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    with connection.cursor() as cursor, gzip.open(path, "wb") as out:
        with cursor.cursor.copy(query) as copy:
            for data in copy:
                out.write(data)


def _sha256(path: Path) -> str:
    with path.open("rb") as file:  # streamed: an archive of millions of charges
        return hashlib.file_digest(file, "sha256").hexdigest()


def read_archive(path: Path):
    """The archived charges, as dicts of text, in id (membership) order."""
    with gzip.open(path, "rt", newline="") as text:
        yield from csv.DictReader(text)


def _archive_path(batch: Batch) -> Path:
    """The batch's recorded file, a plain name in ARCHIVE_ROOT (nothing outside it is read)."""
    name = batch.archive_file
    path = Path(settings.ARCHIVE_ROOT) / name
    if not name or "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise ValidationError(
            _("Batch #%(id)s has no archive file %(name)s in the archive.")
            % {"id": batch.pk, "name": repr(name)}
        )
    return path


def verify_archive(batch: Batch, path: Path | None = None) -> tuple[str, int, int]:
    """Recompute the Merkle root, its sum and the count from the file; raise if any differs
    from the batch's published figures. Returns (root, sum, charges)."""
    path = path or _archive_path(batch)
    if batch.archive_sha256 and _sha256(path) != batch.archive_sha256:
        raise ValidationError(
            _("The archive file of batch #%(id)s was changed.") % {"id": batch.pk}
        )
    count = 0

    def charges():
        nonlocal count
        for row in read_archive(path):
            count += 1
            yield int(row["membership_id"]), int(row["amount_cents"])

    root, total = report_services.root_and_total(report_services.leaves(batch.pk, charges()))
    expected = (batch.merkle_root, batch.merkle_total_cents, batch.participants)
    if (root, total, count) != expected:
        raise ValidationError(
            _("The archive of batch #%(id)s does not match its published root and sum.")
            % {"id": batch.pk}
        )
    return root, total, count
