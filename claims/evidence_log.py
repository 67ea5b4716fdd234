"""The append-only, hash-chained evidence log (SPEC 5).

hash_n = SHA-256(hash_{n-1} || canonical JSON of the record); upload records carry the file's
SHA-256. Appends are serialised (a transaction-scoped advisory lock on PostgreSQL; SQLite
serialises writers anyway), and PostgreSQL refuses UPDATE and DELETE on the table (a trigger
added by migration claims 0003).
"""

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from mutualaid import dialect

GENESIS = "0" * 64
APPEND_LOCK = 6_000_002


def canonical(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(previous: str, record: dict) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + canonical(record)).hexdigest()


def head_hash() -> str:
    """The hash of the newest record of the chain (GENESIS when it is empty)."""
    from claims.models import EvidenceRecord

    return EvidenceRecord.objects.order_by("-seq").values_list("hash", flat=True).first() or GENESIS


def append(kind: str, payload: dict, file_sha256: str = ""):
    """Append one record in the caller's transaction, strictly after every earlier one."""
    return append_many(kind, [payload], file_sha256)[0]


def append_many(kind: str, payloads: list[dict], file_sha256: str = ""):
    """Append a record per payload, in order, with one lock and one INSERT (a batch's claims)."""
    from claims.models import EvidenceRecord

    with transaction.atomic():
        dialect.advisory_xact_lock(APPEND_LOCK)
        last = EvidenceRecord.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, previous = last if last else (0, GENESIS)
        at = timezone.now().isoformat()
        rows = []
        for payload in payloads:
            seq += 1
            record = {"seq": seq, "kind": kind, "at": at, "payload": payload, "file": file_sha256}
            digest = chain_hash(previous, record)
            rows.append(
                EvidenceRecord(
                    seq=seq,
                    kind=kind,
                    at=at,
                    payload=payload,
                    file_sha256=file_sha256,
                    prev_hash=previous,
                    hash=digest,
                )
            )
            previous = digest
        return EvidenceRecord.objects.bulk_create(rows)


def record_of(row) -> dict:
    return {
        "seq": row.seq,
        "kind": row.kind,
        "at": row.at,
        "payload": row.payload,
        "file": row.file_sha256,
    }
