"""The odd-cent rule (SPEC 6): the remainder r of A / N goes one cent each to the r participants
with the smallest SHA-256("{batch id}:{membership id}"), ties broken by membership id.

A run does not sort a million hashes: every chunk gives the odd cent to each hash below a band
around r/N, where the r-th smallest almost surely lies, and writes the participants inside the
band as candidates; once the chunks are done, `settle_odd_cents` finds the cut among them."""

import hashlib
import logging
import math

from django.db.models import Sum

from apportionment import engine, sql
from apportionment.models import Batch, Charge, Chunk, OddCentCandidate
from mutualaid import dialect
from mutualaid.pairkeys import pair_key_filter, pair_key_range

log = logging.getLogger(__name__)


def odd_cent_hash(batch_id: int, membership_id: int) -> bytes:
    return hashlib.sha256(f"{batch_id}:{membership_id}".encode()).digest()


def odd_cent_band_width(participants: int) -> int:
    """Half the band's width in ranks: ±8 standard deviations of the count below r/N."""
    return 4 * math.isqrt(participants) + 16


def odd_cent_band(participants: int, remainder: int, band=None) -> tuple[bytes, bytes]:
    """[low, high) of the hash space around r/N where the r-th smallest hash all but surely
    lies: SHA-256 values are spread evenly."""
    band = odd_cent_band_width(participants) if band is None else band

    def bound(rank: int) -> bytes:
        """rank/N of the hash space, 32 bytes big-endian; b"" is below every hash."""
        if rank <= 0:
            return b""
        if rank >= participants:
            return b"\xff" * 33  # above every hash
        return ((rank << 256) // participants).to_bytes(32, "big")

    return bound(remainder - band), bound(remainder + band)


def odd_cent_cut(params: dict, participants: int, remainder: int, band=None) -> tuple:
    """The (hash, membership id) of the r-th smallest participant: the r up to it pay the odd
    cent (SPEC 6).

    The r-th smallest lies, all but surely, within `odd_cent_band`. On PostgreSQL one pass
    counts the hashes below the band and sorts only those inside it (about 8,000 at a million
    participants) instead of all of them; if the band missed, the full sort decides. The
    result is exact either way.
    """
    hashed = sql.hashed_participants_sql()
    if dialect.is_postgres():
        low, high = odd_cent_band(participants, remainder, band)
        params = {**params, "low": low, "high": high}
        inside = "x.h >= %(low)s AND x.h < %(high)s"
        below, hashes, ids = sql.fetchone(
            f"""
            SELECT COUNT(*) FILTER (WHERE x.h < %(low)s),
                   ARRAY_AGG(x.h ORDER BY x.h, x.id) FILTER (WHERE {inside}),
                   ARRAY_AGG(x.id ORDER BY x.h, x.id) FILTER (WHERE {inside})
            FROM ({hashed} {dialect.computed_once()}) x
            """,
            params,
        )
        rank = remainder - below
        if hashes and 1 <= rank <= len(hashes):
            return bytes(hashes[rank - 1]), ids[rank - 1]
        log.warning("odd-cent band missed (rank %s of %s); sorting every hash", rank, remainder)
    return odd_cent_cut_by_sort(params, remainder)


def odd_cent_cut_by_sort(params: dict, remainder: int) -> tuple:
    """The same cut, found by sorting every participant's hash: the exact fallback."""
    hashed = sql.hashed_participants_sql()
    cut_hash, cut_id = sql.fetchone(
        f"SELECT x.h, x.id FROM ({hashed}) x ORDER BY x.h, x.id LIMIT 1 OFFSET %(offset)s",
        {**params, "offset": remainder - 1},
    )
    return bytes(cut_hash), cut_id


def cut_known(batch: Batch) -> bool:
    return bool(batch.odd_cent_membership_id or not batch.remainder_cents)


def odd_cent_rule(batch: Batch) -> dict:
    """The odd-cent rule a chunk applies, as SQL parameters: a share carries the odd cent when
    its (hash, membership id) is at most (cut_hash, cut_id); a hash in [low, high) makes a
    candidate instead of a charge.

    Until the cut is known, the cut is (low, -1), that is every hash below the band, and the
    band holds the candidates. Once it is known (the band missed and the chunks run again), or
    when there is no odd cent, the band is empty.
    """
    if cut_known(batch):
        cut = {"cut_hash": bytes(batch.odd_cent_hash), "cut_id": batch.odd_cent_membership_id}
        return {**cut, "low": b"", "high": b""}
    low, high = odd_cent_band(batch.participants, batch.remainder_cents)
    return {"cut_hash": low, "cut_id": -1, "low": low, "high": high}


def settle_odd_cents(batch: Batch) -> bool:
    """Once every publish chunk is done: find the cut among the candidates and write their
    charges. The chunks gave the odd cent to every hash below the band, so the cut is the
    candidate whose rank is what remains of r.

    Returns False if the band missed the cut (all but impossible): then the exact cut is
    found by a full sort, the batch's charges are deleted, and its chunks run again with it.
    """
    if cut_known(batch):
        return True  # the chunks applied the exact cut, and wrote no candidate
    candidates = OddCentCandidate.objects.filter(**pair_key_filter("batch_id", batch.pk))
    odd_cents = batch.chunks.filter(phase=Chunk.Phase.PUBLISH).aggregate(n=Sum("odd_cents"))["n"]
    rank = batch.remainder_cents - (odd_cents or 0)
    cut = None
    if rank >= 1:
        cut = (
            candidates.order_by("odd_cent_hash", "membership_id")
            .values_list("odd_cent_hash", "membership_id")[rank - 1 : rank]
            .first()
        )
    if cut is None:
        log.warning("batch %s: the odd-cent band missed its cut; the chunks run again", batch.pk)
        params = {"pool": batch.pool_id, "cutoff": batch.cutoff_at, "batch": batch.pk}
        # The band that just missed would miss again: straight to the full sort.
        batch.odd_cent_hash, batch.odd_cent_membership_id = odd_cent_cut_by_sort(
            params, batch.remainder_cents
        )
        batch.save(update_fields=["odd_cent_hash", "odd_cent_membership_id"])
        Charge.objects.of_batch(batch.pk).delete()
        candidates.delete()
        engine.rerun_phase(batch)
        return False
    batch.odd_cent_hash, batch.odd_cent_membership_id = bytes(cut[0]), cut[1]
    first, last = pair_key_range(batch.pk)
    sql.execute(
        f"""
        INSERT INTO apportionment_charge
            (id, batch_id, membership_id, account_id, amount_cents, capped_cents, outstanding)
        SELECT x.id, x.batch_id, x.membership_id, x.account_id, x.amount, x.capped, FALSE
        FROM (
            SELECT s.*, {sql.capped_share_sql("s.share", "s.room_cents")}
            FROM (
                SELECT c.*, %(base)s + CASE WHEN (c.odd_cent_hash, c.membership_id)
                                                 <= (%(cut_hash)s, %(cut_id)s)
                                            THEN 1 ELSE 0 END AS share
                FROM apportionment_oddcentcandidate c
                WHERE c.id BETWEEN %(first)s AND %(last)s AND c.batch_id = %(batch)s
            ) s
        ) x
        """,
        {
            "base": batch.base_share_cents,
            "cut_hash": bytes(cut[0]),
            "cut_id": cut[1],
            "first": first,
            "last": last,
            "batch": batch.pk,
        },
    )
    candidates.delete()
    return True
