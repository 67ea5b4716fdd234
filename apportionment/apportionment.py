"""Apportionment (SPEC 6): split a pool's approved payouts plus the fee equally, to the cent.

A batch runs in phases. Publishing fixes, at cut-off T, the claims, the participants and every
share; the charges are written by chunk tasks as set-based INSERT ... SELECT over ranges of
membership ids, so no Python loop ever runs over members. Collecting takes the charges from the
wallets, chunked by account; paying out credits the claimants.

Every figure of a batch is derived here, in SQL that runs the same for the preview (which writes
nothing) and for the real run.
"""

import datetime as dt
import hashlib
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Min, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apportionment.models import (
    Batch,
    BatchClaim,
    BatchEvent,
    Charge,
    Chunk,
    OddCentCandidate,
)
from apportionment.signals import batch_published
from claims import evidence_log, workflow
from claims.models import Claim
from ledger.models import Account, Entry
from ledger.models import Transaction as LedgerTransaction
from ledger.services import post, system_account
from members.bulk import bulk_change_status
from members.models import Membership
from mutualaid import pagecache
from mutualaid.pairkeys import pair_key, pair_key_filter, pair_key_range
from pools.models import Pool

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 50_000
ADVISORY_LOCK_NAMESPACE = 6_000_001  # pg_advisory_xact_lock(namespace, pool id)


class BatchAlreadyRunning(ValidationError):
    pass


# --- SQL building blocks --------------------------------------------------------------------


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def odd_cent_hash_sql() -> str:
    """SHA-256 of the UTF-8 text "{batch_id}:{membership_id}" (SPEC 6), as bytes."""
    text = "CAST(%(batch)s AS TEXT) || ':' || CAST(m.id AS TEXT)"
    if _is_postgres():
        return f"sha256(convert_to({text}, 'UTF8'))"
    return f"sha256({text})"  # registered on SQLite connections by apportionment.apps


def odd_cent_hash(batch_id: int, membership_id: int) -> bytes:
    return hashlib.sha256(f"{batch_id}:{membership_id}".encode()).digest()


def participants_sql(ranged: bool = False) -> str:
    """Memberships of the pool that were waiting or active at T (alias m: id, person_id).

    A membership whose status has not changed since T has its current status at T; for the
    others, the status it left in its first recorded change after T.
    """
    id_range = "AND m.id BETWEEN %(lo)s AND %(hi)s" if ranged else ""
    return f"""
        SELECT m.id, m.person_id FROM members_membership m
        WHERE m.pool_id = %(pool)s AND m.joined_at <= %(cutoff)s {id_range}
          AND (CASE WHEN m.status_changed_at <= %(cutoff)s THEN m.status
                    ELSE COALESCE((SELECT h.from_status FROM members_membershipstatuschange h
                                   WHERE h.membership_id = m.id AND h.at > %(cutoff)s
                                   ORDER BY h.at, h.id LIMIT 1), m.status)
               END) IN ('waiting', 'active')
    """


def shares_sql(cap_may_bind: bool = True) -> str:
    """Each participant's share and charge in an id range (alias s: membership_id, account_id,
    h (the odd-cent hash), room, share, amount, capped). The cap counts this calendar year's
    charges of earlier batches; when no one can reach it (`cap_may_bind` false) those charges
    are not read at all."""
    prior = "0"
    prior_join = ""
    if cap_may_bind:
        prior = "COALESCE(prior.paid, 0)"
        prior_join = """
            LEFT JOIN (
                SELECT c.membership_id, SUM(c.amount_cents) AS paid
                FROM apportionment_charge c
                JOIN apportionment_batch b ON b.id = c.batch_id
                WHERE b.pool_id = %(pool)s AND b.cap_year = %(year)s AND b.id <> %(batch)s
                  AND b.status IN ('published', 'collecting', 'collected', 'paid_out')
                  AND c.id BETWEEN b.id * %(per_batch)s + %(lo)s AND b.id * %(per_batch)s + %(hi)s
                GROUP BY c.membership_id
            ) prior ON prior.membership_id = m.id"""
    return f"""
        SELECT p.*, {capped_share_sql("p.share", "p.room")}
        FROM (
            SELECT q.*, %(base)s + CASE WHEN (q.h, q.membership_id) <= (%(cut_hash)s, %(cut_id)s)
                                        THEN 1 ELSE 0 END AS share
            FROM (
                SELECT m.id AS membership_id, person.account_id, {odd_cent_hash_sql()} AS h,
                       CASE WHEN %(cap)s - {prior} > 0 THEN %(cap)s - {prior} ELSE 0 END AS room
                FROM ({participants_sql(ranged=True)}) m
                JOIN members_person person ON person.id = m.person_id
                    AND person.id BETWEEN %(first_person)s AND %(last_person)s{prior_join}
                {_computed_once()}
            ) q
            {_computed_once()}
        ) p
    """


def capped_share_sql(share: str, room: str) -> str:
    """The columns amount (what the member is charged) and capped (what the cap cut)."""
    return f"""CASE WHEN {share} <= {room} THEN {share} ELSE {room} END AS amount,
               CASE WHEN {share} <= {room} THEN 0 ELSE {share} - {room} END AS capped"""


def cap_may_bind(batch: Batch) -> bool:
    """Whether any participant could reach the annual cap in this batch.

    No one has paid more this year than the sum of the largest shares (base + 1 cent) of the
    year's earlier batches; if that plus this batch's largest share fits under the cap, no
    share is cut and the earlier charges need not be read.
    """
    earlier = (
        Batch.objects.filter(
            pool_id=batch.pool_id, cap_year=batch.cap_year, status__in=Batch.PUBLIC_STATUSES
        )
        .exclude(pk=batch.pk)
        .values_list("base_share_cents", "remainder_cents")
    )
    largest = sum(base + (remainder > 0) for base, remainder in earlier)
    return largest + batch.base_share_cents + 1 > batch.annual_cap_cents


def _computed_once() -> str:
    """Ends a subquery whose columns are mentioned more than once above it: PostgreSQL would
    otherwise inline it and compute each mention (a SHA-256 each) again."""
    return "OFFSET 0" if _is_postgres() else ""


def _sort_in_memory(cursor, work_mem: str):
    """Let this transaction's sorts and hashes stay in memory (PostgreSQL's default is 4 MB)."""
    if _is_postgres():
        cursor.execute(f"SET LOCAL work_mem = '{work_mem}'")


def _fetchone(sql: str, params: dict):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _execute(sql: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- Figures --------------------------------------------------------------------------------


@dataclass
class Figures:
    """Every figure of a batch, computed the same way for the preview and the run."""

    pool: Pool
    cutoff: datetime
    claim_ids: list = field(default_factory=list)
    payouts: int = 0  # P
    fee: int = 0  # F
    surplus: int = 0  # U
    carried: int = 0  # D
    participants: int = 0  # N
    subsidy: int = 0  # S
    odd_cent_hash: bytes = b""
    odd_cent_membership_id: int = 0
    chunk_bounds: list = field(default_factory=list)

    @property
    def amount(self) -> int:  # A
        return self.payouts + self.fee - self.surplus + self.carried

    @property
    def base_share(self) -> int:
        return self.amount // self.participants if self.participants else 0

    @property
    def remainder(self) -> int:
        return self.amount % self.participants if self.participants else 0

    @property
    def empty_reason(self) -> str:
        if not self.claim_ids:
            return _("No approved claims since the last batch: nothing to charge.")
        if not self.participants:
            return _("No membership was waiting or active at the cut-off: nobody to charge.")
        if self.amount <= 0:
            return _("The pool's surplus covers the payouts and the fee: nothing to charge.")
        return ""


def carried_forward_due(pool: Pool) -> int:
    """What the pool's next batch carries in (SPEC 6): the charges written off under the
    `carry_forward` policy and not yet in a batch (line D); negative when reinstatements paid
    back more than the batches had collected (a surplus U: refunds of lapsed collections)."""
    account = Account.objects.filter(
        kind=Account.Kind.CARRIED_FORWARD, pool=pool, owner__isnull=True
    ).first()
    if account is None:
        return 0
    in_batches = Batch.objects.filter(
        pool=pool, status__in=("publishing", "published", "collecting")
    ).aggregate(d=Coalesce(Sum(F("carried_in_cents") - F("surplus_cents")), 0))["d"]
    return -account.balance_cents - in_batches


def round_half_up_fee(payouts: int, fee_rate_bp: int) -> int:
    """F = round-half-up(P × rate), in integer arithmetic (rate in basis points)."""
    return (payouts * fee_rate_bp * 2 + 10_000) // 20_000


def claims_due(pool: Pool, cutoff: datetime):
    """Approved claims of the pool approved at or before T and in no earlier batch."""
    return Claim.objects.filter(
        pool=pool,
        status=Claim.Status.APPROVED,
        approved_at__lte=cutoff,
        batch_claim__isnull=True,
        payout_cents__isnull=False,
    )


def compute_figures(
    pool: Pool, cutoff: datetime, batch_id: int, chunk_size: int, with_cut: bool = False
) -> Figures:
    """The figures before any charge is written. The odd-cent cut costs a hash of every
    participant: a run leaves it to its chunks, which hash them anyway (`settle_odd_cents`)."""
    claims = claims_due(pool, cutoff)
    figures = Figures(pool=pool, cutoff=cutoff)
    figures.claim_ids = list(claims.values_list("pk", flat=True))
    figures.payouts = claims.aggregate(total=Sum("payout_cents"))["total"] or 0
    figures.fee = round_half_up_fee(figures.payouts, pool.fee_rate_bp)
    carried = carried_forward_due(pool)
    figures.carried, figures.surplus = max(carried, 0), max(-carried, 0)
    params = {"pool": pool.pk, "cutoff": cutoff, "batch": batch_id}
    first, last, figures.participants = _fetchone(
        f"SELECT MIN(m.id), MAX(m.id), COUNT(*) FROM ({participants_sql()}) m", params
    )
    if figures.empty_reason:
        return figures
    # Chunks are id ranges of equal width, as many as chunks of `chunk_size` participants;
    # numbering every participant to cut ranges of equal counts took longer than the counting.
    chunks = -(-figures.participants // chunk_size)
    figures.chunk_bounds = id_ranges(first, last, width=-(-(last - first + 1) // chunks))
    if with_cut and figures.remainder:
        figures.odd_cent_hash, figures.odd_cent_membership_id = odd_cent_cut(
            params, figures.participants, figures.remainder
        )
    return figures


def id_ranges(first: int, last: int, width: int) -> list[tuple[int, int]]:
    """[first, last] in consecutive ranges of `width` ids (the last one may be shorter)."""
    return [(lo, min(lo + width - 1, last)) for lo in range(first, last + 1, width)]


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


def _hashed_participants_sql() -> str:
    """Every participant with its odd-cent hash (alias columns: h, id)."""
    return f"SELECT {odd_cent_hash_sql()} AS h, m.id FROM ({participants_sql()}) m"


def odd_cent_cut(params: dict, participants: int, remainder: int, band=None) -> tuple:
    """The (hash, membership id) of the r-th smallest participant: the r up to it pay the odd
    cent (SPEC 6).

    The r-th smallest lies, all but surely, within `odd_cent_band`. On PostgreSQL one pass
    counts the hashes below the band and sorts only those inside it (about 8,000 at a million
    participants) instead of all of them; if the band missed, the full sort decides. The
    result is exact either way.
    """
    hashed = _hashed_participants_sql()
    if _is_postgres():
        low, high = odd_cent_band(participants, remainder, band)
        params = {**params, "low": low, "high": high}
        inside = "x.h >= %(low)s AND x.h < %(high)s"
        below, hashes, ids = _fetchone(
            f"""
            SELECT COUNT(*) FILTER (WHERE x.h < %(low)s),
                   ARRAY_AGG(x.h ORDER BY x.h, x.id) FILTER (WHERE {inside}),
                   ARRAY_AGG(x.id ORDER BY x.h, x.id) FILTER (WHERE {inside})
            FROM ({hashed} {_computed_once()}) x
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
    hashed = _hashed_participants_sql()
    cut_hash, cut_id = _fetchone(
        f"SELECT x.h, x.id FROM ({hashed}) x ORDER BY x.h, x.id LIMIT 1 OFFSET %(offset)s",
        {**params, "offset": remainder - 1},
    )
    return bytes(cut_hash), cut_id


def _cut_known(batch: Batch) -> bool:
    return bool(batch.odd_cent_membership_id or not batch.remainder_cents)


def odd_cent_rule(batch: Batch) -> dict:
    """The odd-cent rule a chunk applies, as SQL parameters: a share carries the odd cent when
    its (hash, membership id) is at most (cut_hash, cut_id); a hash in [low, high) makes a
    candidate instead of a charge.

    Until the cut is known, the cut is (low, -1), that is every hash below the band, and the
    band holds the candidates. Once it is known (the band missed and the chunks run again), or
    when there is no odd cent, the band is empty.
    """
    if _cut_known(batch):
        cut = {"cut_hash": bytes(batch.odd_cent_hash), "cut_id": batch.odd_cent_membership_id}
        return {**cut, "low": b"", "high": b""}
    low, high = odd_cent_band(batch.participants, batch.remainder_cents)
    return {"cut_hash": low, "cut_id": -1, "low": low, "high": high}


def _share_params(batch: Batch, lo: int, hi: int) -> dict:
    # The persons of these memberships lie in a range (a person is enrolled with their
    # membership): bounding it lets PostgreSQL hash-join them instead of one lookup a row.
    # "+ 0" keeps MIN/MAX off the person_id index, which would walk past every earlier chunk's
    # memberships (0.11 s a chunk instead of 0.01 s).
    first_person, last_person = _fetchone(
        "SELECT MIN(person_id + 0), MAX(person_id + 0) FROM members_membership "
        "WHERE pool_id = %(pool)s AND id BETWEEN %(lo)s AND %(hi)s",
        {"pool": batch.pool_id, "lo": lo, "hi": hi},
    )
    return {
        "first_person": first_person or 0,
        "last_person": last_person or 0,
        "batch": batch.pk,
        "pool": batch.pool_id,
        "cutoff": batch.cutoff_at,
        "base": batch.base_share_cents,
        **odd_cent_rule(batch),
        "cap": batch.annual_cap_cents,
        "year": batch.cap_year,
        "lo": lo,
        "hi": hi,
        "first_charge": pair_key(batch.pk, 0),
        "per_batch": pair_key(1, 0),
    }


def preview(pool: Pool, cutoff: datetime | None = None, chunk_size=DEFAULT_CHUNK_SIZE) -> dict:
    """Every figure of the batch that would run now; writes nothing."""
    cutoff = cutoff or timezone.now()
    next_id = (Batch.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    figures = compute_figures(pool, cutoff, next_id, chunk_size, with_cut=True)
    result = {
        "pool": pool.slug,
        "cutoff": cutoff,
        "claims": len(figures.claim_ids),
        "payouts_cents": figures.payouts,
        "fee_cents": figures.fee,
        "surplus_cents": figures.surplus,
        "carried_in_cents": figures.carried,
        "amount_cents": figures.amount,
        "participants": figures.participants,
        "base_share_cents": figures.base_share,
        "remainder_cents": figures.remainder,
        "subsidy_cents": 0,
        "chunks": len(figures.chunk_bounds),
        "message": figures.empty_reason,
    }
    if not figures.empty_reason:
        draft = Batch(
            pk=next_id,
            pool=pool,
            cutoff_at=cutoff,
            base_share_cents=figures.base_share,
            participants=figures.participants,
            remainder_cents=figures.remainder,
            odd_cent_hash=figures.odd_cent_hash,
            odd_cent_membership_id=figures.odd_cent_membership_id,
            annual_cap_cents=pool.annual_cap_cents,
            cap_year=cutoff.year,
        )
        lo, hi = figures.chunk_bounds[0][0], figures.chunk_bounds[-1][1]
        result["subsidy_cents"] = _fetchone(
            f"SELECT COALESCE(SUM(s.capped), 0) FROM ({shares_sql(cap_may_bind(draft))}) s",
            _share_params(draft, lo, hi),
        )[0]
    return result


# --- Publish ----------------------------------------------------------------------------------


def _lock_pool(pool: Pool):
    """Serialise batch starts of one pool (the unique constraint backs it up)."""
    if _is_postgres():
        locked = _fetchone(
            "SELECT pg_try_advisory_xact_lock(%(ns)s, %(pool)s)",
            {"ns": ADVISORY_LOCK_NAMESPACE, "pool": pool.pk},
        )[0]
        if not locked:
            raise BatchAlreadyRunning(_("Another batch of this pool is starting right now."))


def record_batch_event(batch: Batch, action: str, *, actor=None, via: str = BatchEvent.Via.BEAT):
    """Put who started, collected or resumed a batch on its record (nobody: the schedule)."""
    BatchEvent.objects.create(batch=batch, action=action, actor=actor, via=via)


def start_batch(
    pool: Pool,
    cutoff: datetime | None = None,
    chunk_size=DEFAULT_CHUNK_SIZE,
    *,
    actor=None,
    via: str = BatchEvent.Via.BEAT,
):
    """Create the batch at cut-off T, include its claims, and enqueue its publish chunks."""
    cutoff = cutoff or timezone.now()
    try:
        with transaction.atomic():
            _lock_pool(pool)
            running = Batch.objects.filter(pool=pool, status__in=Batch.RUNNING_STATUSES).first()
            if running:
                raise BatchAlreadyRunning(
                    _("Batch #%(id)s of this pool is still running.") % {"id": running.pk}
                )
            batch = Batch.objects.create(
                pool=pool,
                status=Batch.Status.PUBLISHING,
                cutoff_at=cutoff,
                cap_year=cutoff.year,
                annual_cap_cents=pool.annual_cap_cents,
                fee_rate_bp=pool.fee_rate_bp,
                chunk_size=chunk_size,
            )
            figures = compute_figures(pool, cutoff, batch.pk, chunk_size)
            batch.payouts_cents = figures.payouts
            batch.fee_cents = figures.fee
            batch.surplus_cents = figures.surplus
            batch.carried_in_cents = figures.carried
            batch.amount_cents = figures.amount
            batch.participants = figures.participants
            batch.base_share_cents = figures.base_share
            batch.remainder_cents = figures.remainder
            batch.odd_cent_hash = figures.odd_cent_hash
            batch.odd_cent_membership_id = figures.odd_cent_membership_id
            record_batch_event(batch, BatchEvent.Action.START, actor=actor, via=via)
            if figures.empty_reason:
                batch.status = Batch.Status.EMPTY
                batch.message = figures.empty_reason
                batch.save()
                return batch
            batch.save()
            BatchClaim.objects.bulk_create(
                BatchClaim(batch=batch, claim_id=claim_id, payout_cents=payout)
                for claim_id, payout in Claim.objects.filter(pk__in=figures.claim_ids).values_list(
                    "pk", "payout_cents"
                )
            )
            Chunk.objects.bulk_create(
                Chunk(batch=batch, phase=Chunk.Phase.PUBLISH, number=i, first_id=lo, last_id=hi)
                for i, (lo, hi) in enumerate(figures.chunk_bounds)
            )
            transaction.on_commit(lambda: enqueue_pending_chunks(batch.pk))
    except IntegrityError as exc:
        if "batch_one_running_per_pool" in str(exc):
            raise BatchAlreadyRunning(_("Another batch of this pool is running.")) from exc
        raise
    return batch


def enqueue_pending_chunks(batch_id: int):
    from apportionment.tasks import run_chunk

    for chunk_id in Chunk.objects.filter(
        batch_id=batch_id, status=Chunk.Status.PENDING
    ).values_list("pk", flat=True):
        run_chunk.delay(chunk_id)


def claim_chunk(chunk_id: int) -> Chunk | None:
    """Take a pending chunk for this worker: a conditional UPDATE, so only one task wins."""
    won = Chunk.objects.filter(pk=chunk_id, status=Chunk.Status.PENDING).update(
        status=Chunk.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    return Chunk.objects.select_related("batch").get(pk=chunk_id) if won else None


def run_chunk(chunk_id: int) -> str:
    """Do one chunk's work in one transaction; a rerun after a crash inserts nothing twice."""
    chunk = claim_chunk(chunk_id)
    if chunk is None:
        return "not pending"
    return run_claimed_chunk(chunk)


def run_claimed_chunk(chunk: Chunk) -> str:
    """The work of a chunk this run has claimed, under the chunk's row lock.

    The sweeper may re-send a chunk whose first run is slow but alive. Whichever run takes the
    lock first does the work and marks the chunk done; the other waits, then finds it done. So
    a collection chunk never debits twice, and charges need no ON CONFLICT, which made their
    insert twice as slow (docs/benchmarks.md); a charge's primary key is its (batch,
    membership), so a duplicate is still refused.
    """
    with transaction.atomic():
        status = Chunk.objects.select_for_update().values_list("status", flat=True).get(pk=chunk.pk)
        if status == Chunk.Status.DONE:
            return "done by another run"
        odd_cents = 0
        if chunk.phase == Chunk.Phase.PUBLISH:
            rows, odd_cents = _insert_charges(chunk)
        else:
            rows = collect_for_accounts(chunk.batch, chunk.first_id, chunk.last_id)
        Chunk.objects.filter(pk=chunk.pk).update(
            status=Chunk.Status.DONE, finished_at=timezone.now(), rows=rows, odd_cents=odd_cents
        )
        pagecache.bump(pagecache.MEMBERS)  # charges and balances moved set-based
    finish_phase_if_done(chunk.batch_id)
    return f"{chunk.phase} chunk {chunk.number}: {rows} rows"


def _insert_charges(chunk: Chunk) -> tuple[int, int]:
    """Write a chunk's charges, and its odd-cent candidates instead of the charges of the band;
    returns (charges written, how many carry the odd cent)."""
    shares = shares_sql(cap_may_bind(chunk.batch))
    in_band = "(s.h >= %(low)s AND s.h < %(high)s)"
    charges = f"""
        INSERT INTO apportionment_charge
            (id, batch_id, membership_id, account_id, amount_cents, capped_cents, outstanding)
        SELECT %(first_charge)s + s.membership_id, %(batch)s, s.membership_id, s.account_id,
               s.amount, s.capped, FALSE
        FROM shares s WHERE NOT {in_band}
    """
    candidates = f"""
        INSERT INTO apportionment_oddcentcandidate
            (id, batch_id, membership_id, account_id, odd_cent_hash, room_cents)
        SELECT %(first_charge)s + s.membership_id, %(batch)s, s.membership_id, s.account_id,
               s.h, s.room
        FROM shares s WHERE {in_band}
    """
    counts = f"""
        SELECT COUNT(*) FILTER (WHERE NOT {in_band}),
               COUNT(*) FILTER (WHERE NOT {in_band} AND s.share > %(base)s)
        FROM shares s
    """
    params = _share_params(chunk.batch, chunk.first_id, chunk.last_id)
    if not _is_postgres():  # no INSERT inside WITH: the shares are computed three times
        _execute(f"WITH shares AS ({shares}) {charges}", params)
        _execute(f"WITH shares AS ({shares}) {candidates}", params)
        return _fetchone(f"WITH shares AS ({shares}) {counts}", params)
    with connection.cursor() as cursor:
        _sort_in_memory(cursor, "64MB")  # the chunk's shares, computed once for all three
        cursor.execute(
            f"""
            WITH shares AS MATERIALIZED ({shares}),
                 written_charges AS ({charges}), written_candidates AS ({candidates})
            {counts}
            """,
            params,
        )
        return cursor.fetchone()


def settle_odd_cents(batch: Batch) -> bool:
    """Once every publish chunk is done: find the cut among the candidates and write their
    charges. The chunks gave the odd cent to every hash below the band, so the cut is the
    candidate whose rank is what remains of r.

    Returns False if the band missed the cut (all but impossible): then the exact cut is
    found by a full sort, the batch's charges are deleted, and its chunks run again with it.
    """
    if _cut_known(batch):
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
        batch.chunks.update(status=Chunk.Status.PENDING, started_at=None, rows=0, odd_cents=0)
        transaction.on_commit(lambda: enqueue_pending_chunks(batch.pk))
        return False
    batch.odd_cent_hash, batch.odd_cent_membership_id = bytes(cut[0]), cut[1]
    first, last = pair_key_range(batch.pk)
    _execute(
        f"""
        INSERT INTO apportionment_charge
            (id, batch_id, membership_id, account_id, amount_cents, capped_cents, outstanding)
        SELECT x.id, x.batch_id, x.membership_id, x.account_id, x.amount, x.capped, FALSE
        FROM (
            SELECT s.*, {capped_share_sql("s.share", "s.room_cents")}
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


def finish_phase_if_done(batch_id: int):
    """When the last chunk of the running phase is done, check and complete the phase.

    The batch row is locked FOR NO KEY UPDATE: a FOR UPDATE lock would wait for every chunk
    still running whose rows reference the batch, so each worker would idle at the end of a
    chunk until the other's chunk committed."""
    with transaction.atomic():
        batch = (
            Batch.objects.select_for_update(no_key=True)
            .filter(pk=batch_id, status__in=Batch.RUNNING_STATUSES)
            .first()
        )
        if batch is None or batch.chunks.exclude(status=Chunk.Status.DONE).exists():
            return
        if batch.status == Batch.Status.PUBLISHING:
            _complete_publishing(batch)
        else:
            _complete_collection(batch)


def _complete_publishing(batch: Batch):
    if not settle_odd_cents(batch):
        return  # the chunks run again with the exact cut
    totals = Charge.objects.of_batch(batch.pk).aggregate(
        count=Count("pk"),
        charged=Coalesce(Sum("amount_cents"), 0),
        capped=Coalesce(Sum("capped_cents"), 0),
    )
    count, charged, capped = totals["count"], totals["charged"], totals["capped"]
    batch.subsidy_cents = capped
    if count != batch.participants or charged + capped != batch.amount_cents:
        batch.status = Batch.Status.FAILED
        batch.message = _(
            "Invariant broken: %(count)s charges for %(n)s participants, charges %(charged)s "
            "+ subsidy %(capped)s ≠ amount %(amount)s. Nothing was collected."
        ) % {
            "count": count,
            "n": batch.participants,
            "charged": charged,
            "capped": capped,
            "amount": batch.amount_cents,
        }
        batch.save()
        log.error("batch %s failed: %s", batch.pk, batch.message)
        return
    workflow.run_system_many(
        batch.batch_claims.values_list("claim_id", flat=True),
        "apportion",
        note=f"batch {batch.pk}",
        actor=batch_starter(batch),
    )
    batch.status = Batch.Status.PUBLISHED
    batch.published_at = timezone.now()
    batch.evidence_head = evidence_log.head_hash()
    batch.message = _("Published: %(n)s charges, sum plus subsidy equals the amount.") % {
        "n": count
    }
    batch.save()
    batch_published.send(sender=Batch, batch=batch)


def batch_starter(batch: Batch):
    """The operator who started the batch (None: the schedule did)."""
    event = batch.events.filter(action=BatchEvent.Action.START).select_related("actor").first()
    return event.actor if event else None


def resume_batch(batch: Batch, *, actor=None, via: str = BatchEvent.Via.BEAT):
    """Re-run a failed or stuck batch: its chunks go back to pending and are enqueued."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.status == Batch.Status.FAILED:
            raise ValidationError(
                _("A batch that failed its invariant is not resumed; start a new one.")
            )
        record_batch_event(batch, BatchEvent.Action.RESUME, actor=actor, via=via)
        Chunk.objects.filter(batch=batch).exclude(status=Chunk.Status.DONE).update(
            status=Chunk.Status.PENDING, started_at=None
        )
        transaction.on_commit(lambda: enqueue_pending_chunks(batch.pk))
    return batch


def sweep_stale_chunks(stale_after_seconds: int = 900) -> int:
    """Re-enqueue chunks left behind by a lost message or a killed worker."""
    stale = timezone.now() - timezone.timedelta(seconds=stale_after_seconds)
    running = Batch.objects.filter(status__in=Batch.RUNNING_STATUSES)
    reset = Chunk.objects.filter(
        batch__in=running, status=Chunk.Status.RUNNING, started_at__lt=stale
    ).update(status=Chunk.Status.PENDING, started_at=None)
    for batch_id in running.values_list("pk", flat=True):
        enqueue_pending_chunks(batch_id)
        finish_phase_if_done(batch_id)
    # Publication's follow-up work (the Merkle root) lost with its message: announce it again.
    rootless = Batch.objects.filter(
        status__in=Batch.PUBLIC_STATUSES, merkle_root="", published_at__lt=stale
    )
    for batch in rootless:
        batch_published.send(sender=Batch, batch=batch)
    return reset


# --- Collect ----------------------------------------------------------------------------------


def _due_filter(retry: bool) -> str:
    """The charges a collection call takes (alias c): one batch's charges not yet settled, or,
    for a retry (after a top-up, or the daily retry), every outstanding charge."""
    if retry:
        return "c.outstanding"
    return "c.batch_id = %(batch)s AND NOT c.outstanding AND c.paid_at IS NULL"


def start_collection(batch: Batch, *, actor=None, via: str = BatchEvent.Via.BEAT) -> Batch:
    """Move a published batch to collecting, in chunks of account ids."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != Batch.Status.PUBLISHED:
            raise ValidationError(
                _("Only a published batch can be collected (this one is %(status)s).")
                % {"status": batch.get_status_display()}
            )
        record_batch_event(batch, BatchEvent.Action.COLLECT, actor=actor, via=via)
        batch.status = Batch.Status.COLLECTING
        batch.save(update_fields=["status"])
        # Ranges of equal width over the accounts that owe (account ids are dense enough).
        accounts = Charge.objects.of_batch(batch.pk).aggregate(
            first=Min("account_id"), last=Max("account_id")
        )
        first, last = accounts["first"], accounts["last"]
        bounds = id_ranges(first, last, batch.chunk_size) if first is not None else []
        Chunk.objects.bulk_create(
            Chunk(batch=batch, phase=Chunk.Phase.COLLECT, number=i, first_id=lo, last_id=hi)
            for i, (lo, hi) in enumerate(bounds)
        )
        transaction.on_commit(lambda: enqueue_pending_chunks(batch.pk))
        if not bounds:
            transaction.on_commit(lambda: finish_phase_if_done(batch.pk))
    return batch


COLLECTION_TABLES = (
    "collection_due",
    "collection_account",
    "collection_order",
    "collection_charge",
    "collection_debit",
)

# The order an account's charges are taken in (SPEC 3), over aliases c (charge), p (person)
# and m (membership): oldest batch first; in a batch, the holder's own memberships, then
# family memberships in the order they joined.
PAYING_ORDER = """c.batch_id, CASE WHEN p.relationship = 'self' THEN 0 ELSE 1 END,
                  m.joined_at, m.id"""

# First fit over collection_order (SPEC 3): walking an account's charges in paying order, a
# charge is paid if what remains in the wallet covers it, else it stays unpaid and the next
# are still tried (a smaller one may fit; 0.00 always does). The recursion takes one step per
# charge of the longest account, and runs only for the accounts the wallet does not cover
# (and on a retry), each with a handful of charges. PostgreSQL and SQLite alike.
FIRST_FIT_SQL = """
    WITH RECURSIVE fit (account_id, n, charge_id, payable, remaining) AS (
        SELECT o.account_id, o.n, o.charge_id, o.amount_cents <= o.balance,
               CASE WHEN o.amount_cents <= o.balance THEN o.balance - o.amount_cents
                    ELSE o.balance END
        FROM collection_order o WHERE o.n = 1
        UNION ALL
        SELECT o.account_id, o.n, o.charge_id, o.amount_cents <= f.remaining,
               CASE WHEN o.amount_cents <= f.remaining THEN f.remaining - o.amount_cents
                    ELSE f.remaining END
        FROM fit f JOIN collection_order o ON o.account_id = f.account_id AND o.n = f.n + 1
    )
    SELECT o.charge_id, o.membership_id, o.membership_status, o.account_id, o.pool_id,
           o.amount_cents, f.payable
    FROM fit f JOIN collection_order o ON o.charge_id = f.charge_id
"""


def collect_for_accounts(batch: Batch | None, first_account: int, last_account: int) -> int:
    """Take charges from the wallets of a range of accounts, set-based; returns how many paid.

    An account whose wallet covers all it owes is debited in one line and its charges are not
    written: they are paid because the batch is collected. Only for the other accounts is each
    charge decided, first fit in paying order (SPEC 3, `FIRST_FIT_SQL`); the charges that do not
    fit become outstanding and suspend their memberships. One ledger transaction per call:
    wallets debited, the pool reserves credited. `batch=None` retries the outstanding charges,
    oldest batch first.
    """
    retry = batch is None
    now = timezone.now()
    params = {
        "batch": batch.pk if batch else None,
        "pool": batch.pool_id if batch else None,
        "retry": retry,
        "lo": first_account,
        "hi": last_account,
        "now": now,
        "today": now.date(),
        "memo": f"batch {batch.pk}" if batch else f"retry accounts {first_account}-{last_account}",
    }
    due = _due_filter(retry)
    with connection.cursor() as cursor:
        _sort_in_memory(cursor, "64MB")
        for table in COLLECTION_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"""
            CREATE TEMP TABLE collection_due AS
            SELECT c.account_id, CAST(SUM(c.amount_cents) AS BIGINT) AS due, COUNT(*) AS charges
            FROM apportionment_charge c
            WHERE {due} AND c.account_id BETWEEN %(lo)s AND %(hi)s
            GROUP BY c.account_id
            """,
            params,
        )
        # The wallets are joined in a statement of their own: the planner then knows how many
        # accounts owe (statistics older than the charges cannot tell it) and hash-joins the
        # range's wallets instead of looking each one up.
        cursor.execute(
            """
            CREATE TEMP TABLE collection_account AS
            SELECT d.account_id, w.id AS wallet_id, COALESCE(w.balance_cents, 0) AS balance,
                   d.due, d.charges
            FROM collection_due d
            LEFT JOIN ledger_account w ON w.owner_id = d.account_id AND w.kind = 'wallet'
                AND w.owner_id BETWEEN %(lo)s AND %(hi)s
            """,
            params,
        )
        # Charge by charge, in paying order, for the accounts the wallet does not cover (and
        # for every account on a retry, whose paid charges are marked): first fit (SPEC 3).
        cursor.execute(
            f"""
            CREATE TEMP TABLE collection_order AS
            SELECT c.id AS charge_id, c.membership_id, m.status AS membership_status,
                   c.account_id, b.pool_id, c.amount_cents, a.balance,
                   ROW_NUMBER() OVER (
                       PARTITION BY c.account_id ORDER BY {PAYING_ORDER}
                   ) AS n
            FROM collection_account a
            JOIN apportionment_charge c ON c.account_id = a.account_id
            JOIN apportionment_batch b ON b.id = c.batch_id
            JOIN members_membership m ON m.id = c.membership_id
            JOIN members_person p ON p.id = m.person_id
            WHERE (a.balance < a.due OR %(retry)s) AND {due}
              AND c.account_id BETWEEN %(lo)s AND %(hi)s
            """,
            params,
        )
        cursor.execute("CREATE INDEX collection_order_step ON collection_order (account_id, n)")
        if _is_postgres():
            cursor.execute("ANALYZE collection_order")  # small: lets the recursion use the index
        cursor.execute(f"CREATE TEMP TABLE collection_charge AS {FIRST_FIT_SQL}")
        # What leaves each wallet, and for which pool.
        cursor.execute(
            """
            CREATE TEMP TABLE collection_debit AS
            SELECT a.wallet_id, CAST(%(pool)s AS BIGINT) AS pool_id, a.due AS amount,
                   a.charges AS paid
            FROM collection_account a
            WHERE NOT %(retry)s AND a.balance >= a.due
            UNION ALL
            SELECT a.wallet_id, s.pool_id, SUM(s.amount_cents), COUNT(*)
            FROM collection_charge s JOIN collection_account a ON a.account_id = s.account_id
            WHERE s.payable GROUP BY a.wallet_id, s.pool_id
            """,
            params,
        )
        txn = _post_collection(cursor, params)
        if retry:
            cursor.execute(
                """
                UPDATE apportionment_charge
                SET outstanding = FALSE, paid_at = %(now)s, ledger_txn_id = %(txn)s
                FROM collection_charge s
                WHERE apportionment_charge.id = s.charge_id AND s.payable
                """,
                {**params, "txn": txn.pk if txn else None},
            )
        else:
            cursor.execute(
                """
                UPDATE apportionment_charge SET outstanding = TRUE
                FROM collection_charge s
                WHERE apportionment_charge.id = s.charge_id AND NOT s.payable
                """
            )
        _suspend_unpaid(params)
        if retry:
            _reactivate_settled(params)
        cursor.execute("SELECT CAST(COALESCE(SUM(paid), 0) AS BIGINT) FROM collection_debit")
        paid = int(cursor.fetchone()[0])
        for table in COLLECTION_TABLES:
            cursor.execute(f"DROP TABLE {table}")
    return paid


def _post_collection(cursor, params: dict) -> LedgerTransaction | None:
    """The collection's ledger transaction, from collection_debit: one line per wallet debited
    and one per pool reserve credited, and the balances moved by the same amounts."""
    cursor.execute(
        "SELECT pool_id, SUM(amount) FROM collection_debit GROUP BY pool_id HAVING SUM(amount) > 0"
    )
    credits = cursor.fetchall()
    if not credits:
        return None
    txn = LedgerTransaction.objects.create(kind="collection", memo=params["memo"])
    wallets = """
        SELECT wallet_id, CAST(SUM(amount) AS BIGINT) AS amount FROM collection_debit
        GROUP BY wallet_id HAVING SUM(amount) > 0 ORDER BY wallet_id
    """
    lines = """
        INSERT INTO ledger_entry (id, transaction_id, account_id, amount_cents)
        SELECT %(first_line)s + d.wallet_id, %(txn)s, d.wallet_id, -d.amount FROM {debits} d
    """
    balances = f"""
        UPDATE ledger_account SET balance_cents = ledger_account.balance_cents - d.amount
        FROM ({wallets}) d WHERE ledger_account.id = d.wallet_id
    """
    line_params = {"txn": txn.pk, "first_line": pair_key(txn.pk, 0)}
    if _is_postgres():  # one statement, the debits summed once
        debited = f"WITH debited AS ({balances} RETURNING d.wallet_id, d.amount)"
        in_order = "(SELECT * FROM debited ORDER BY wallet_id)"
        cursor.execute(f"{debited} {lines.format(debits=in_order)}", line_params)
    else:  # SQLite (the embedded default) has no data-modifying WITH
        cursor.execute(lines.format(debits=f"({wallets})"), line_params)
        cursor.execute(balances)
    for pool_id, total in credits:
        reserve = system_account(Account.Kind.POOL_RESERVE, Pool(pk=pool_id))
        Entry.objects.create(transaction=txn, account=reserve, amount_cents=total)
        Account.objects.filter(pk=reserve.pk).update(balance_cents=F("balance_cents") + total)
    return txn


def _suspend_unpaid(params: dict):
    """Memberships with a charge the wallet did not cover (from collection_charge)."""
    bulk_change_status(
        """m.status IN ('waiting', 'active') AND m.id IN (
            SELECT s.membership_id FROM collection_charge s
            WHERE NOT s.payable AND s.membership_status IN ('waiting', 'active'))""",
        params,
        "suspend",
        "charge unpaid: the wallet did not cover it",
        extra_set=", suspended_since = %(today)s",
    )


def _reactivate_settled(params: dict):
    """Suspended memberships whose charges this retry settled, and that owe nothing else."""
    bulk_change_status(
        """m.id IN (SELECT s.membership_id FROM collection_charge s
                   WHERE s.payable AND s.membership_status = 'suspended')
           AND NOT EXISTS (SELECT 1 FROM apportionment_charge c
                           WHERE c.membership_id = m.id AND c.outstanding)""",
        params,
        "reactivate",
        "unpaid charges settled",
        extra_set=", suspended_since = NULL",
    )


def settle_unpaid_charges(user) -> int:
    """After a top-up: retry the account's unpaid charges and reactivate what they settle."""
    with transaction.atomic():
        return collect_for_accounts(None, user.pk, user.pk)


def _complete_collection(batch: Batch):
    """Collection done: move the fee, the subsidy and the payouts; claims become paid."""
    reserve = system_account(Account.Kind.POOL_RESERVE, batch.pool)
    if batch.fee_cents:
        post(
            "fee",
            [
                (reserve, -batch.fee_cents),
                (system_account(Account.Kind.FEE_INCOME), batch.fee_cents),
            ],
            memo=f"management fee of batch {batch.pk}",
        )
    if batch.subsidy_cents:
        post(
            "subsidy",
            [
                (system_account(Account.Kind.SPONSOR), -batch.subsidy_cents),
                (reserve, batch.subsidy_cents),
            ],
            memo=f"sponsor subsidy of batch {batch.pk} (annual cap)",
        )
    settle_carried_forward(batch, reserve)
    batch.status = Batch.Status.COLLECTED
    batch.collected_at = timezone.now()
    batch.save()
    pay_out(batch)


def settle_carried_forward(batch: Batch, reserve: Account):
    """The batch collected line D (or gave back the surplus U) for the pool's carried-forward
    write-offs: the reserve hands it to the carried-forward account, which it had lent."""
    net = batch.carried_in_cents - batch.surplus_cents
    if net:
        post(
            "carried-forward",
            [(reserve, -net), (system_account(Account.Kind.CARRIED_FORWARD, batch.pool), net)],
            memo=f"shortfall carried into batch {batch.pk} (D - U)",
        )


def pay_out(batch: Batch):
    """Credit each claim of the batch to its claimant's wallet; the claim becomes paid."""
    from ledger.services import wallet_for

    reserve = system_account(Account.Kind.POOL_RESERVE, batch.pool)
    included = batch.batch_claims.select_related("claim__claimant", "claim__membership")
    for item in included:
        claim = item.claim
        if not workflow.run_system_many([claim.pk], "pay", note=f"batch {batch.pk}"):
            continue
        post(
            "payout",
            [(reserve, -item.payout_cents), (wallet_for(claim.claimant), item.payout_cents)],
            memo=f"payout of claim {claim.pk} (batch {batch.pk})",
        )
        bulk_change_status(
            "m.id = %(id)s",
            {"id": claim.membership_id},
            "pay_out",
            f"claim {claim.pk} paid out",
        )
    batch.status = Batch.Status.PAID_OUT
    batch.paid_out_at = timezone.now()
    batch.save()


def refund_membership_charges(membership: Membership) -> int:
    """Give back every share a membership paid, and settle what it still owes, from the sponsor.

    For a membership that ended in its observation period (SPEC 3): the pool has already paid
    those shares out to claimants, so the sponsor funds the refund; unpaid shares of published
    batches are paid by the sponsor too, so every batch still balances. Returns the refund.
    """
    from ledger.services import wallet_for

    charges = Charge.objects.of_account(membership.person.account).filter(membership=membership)
    settled = charges.settled()
    paid = settled.aggregate(total=Sum("amount_cents"))["total"]
    owed_ids = list(charges.exclude(pk__in=settled.values("pk")).values_list("pk", flat=True))
    owed = Charge.objects.filter(pk__in=owed_ids).aggregate(total=Sum("amount_cents"))["total"]
    sponsor = system_account(Account.Kind.SPONSOR)
    if paid:
        post(
            "refund",
            [(sponsor, -paid), (wallet_for(membership.person.account), paid)],
            memo=f"refund of the shares paid by membership {membership.pk} (ended in waiting)",
        )
    txn_id = None
    if owed:
        txn_id = post(
            "waiver",
            [(sponsor, -owed), (system_account(Account.Kind.POOL_RESERVE, membership.pool), owed)],
            memo=f"shares owed by membership {membership.pk} (ended in waiting), paid by sponsor",
        ).pk
    Charge.objects.filter(pk__in=owed_ids).update(
        outstanding=False, paid_at=timezone.now(), ledger_txn_id=txn_id
    )
    return paid or 0


def pay_written_off_charges(membership: Membership) -> int:
    """Reinstatement's money (SPEC 3): the membership's written-off charges are paid from the
    account holder's wallet, and what covered them is paid back (the sponsor, or the pool's
    carried-forward account, which a later batch then collects less from), so nobody pays
    twice. Returns the cents paid; raises ValidationError if the wallet is short."""
    from ledger.services import wallet_for

    account = membership.person.account
    charges = list(
        Charge.objects.of_account(account)
        .select_for_update()
        .filter(membership=membership, written_off_at__isnull=False)
    )
    amount = sum(charge.amount_cents for charge in charges)
    if not amount:
        return 0
    wallet = Account.objects.select_for_update().get(pk=wallet_for(account).pk)
    if wallet.balance_cents < amount:
        raise ValidationError(
            _("Reinstating needs ¥%(owed)s in the wallet (it holds ¥%(held)s): top up first.")
            % {"owed": f"{amount / 100:.2f}", "held": f"{wallet.balance_cents / 100:.2f}"},
            code="wallet_short",
        )
    kinds = dict(
        LedgerTransaction.objects.filter(pk__in={c.ledger_txn_id for c in charges}).values_list(
            "pk", "kind"
        )
    )
    back = {kind: 0 for kind, _source in SHORTFALL_KINDS.values()}
    per_batch: dict[tuple, int] = {}
    for charge in charges:
        kind = kinds.get(charge.ledger_txn_id, "shortfall-sponsor")
        back[kind] += charge.amount_cents
        field = (
            "shortfall_sponsor_cents" if kind == "shortfall-sponsor" else "shortfall_carried_cents"
        )
        per_batch[(charge.batch_id, field)] = per_batch.get((charge.batch_id, field), 0) + (
            charge.amount_cents
        )
    lines = [(wallet, -amount)]
    for kind, source in SHORTFALL_KINDS.values():
        if back[kind]:
            lines.append((shortfall_source(membership.pool, source), back[kind]))
    txn = post("reinstatement", lines, memo=f"written-off charges of membership {membership.pk}")
    Charge.objects.filter(pk__in=[c.pk for c in charges]).update(
        written_off_at=None, paid_at=timezone.now(), ledger_txn_id=txn.pk
    )
    for (batch_id, field), cents in per_batch.items():
        Batch.objects.filter(pk=batch_id).update(**{field: F(field) - cents})
    pagecache.bump(pagecache.REPORTS)
    return amount


# --- Daily retry and lapse ---------------------------------------------------------------------


def daily_retry_and_lapse(today: dt.date) -> dict:
    """Retry every outstanding charge; lapse memberships whose retry window ended unpaid.

    One rule (SPEC 3): unpaid charges are retried on each of the `grace_days` days after the
    collection day (the day the membership was suspended); when the retry on the last of them
    fails, the membership lapses. Correct when run late: the lapse is derived from the
    suspension date, not from when this job runs, and a run repeated changes nothing.
    """
    retried = 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT MIN(c.account_id), MAX(c.account_id) FROM apportionment_charge c
            WHERE c.outstanding
            """
        )
        lo, hi = cursor.fetchone()
    if lo is not None:
        with transaction.atomic():
            retried = collect_for_accounts(None, lo, hi)
            pagecache.bump(pagecache.MEMBERS)  # charges and balances moved set-based
    lapsed = 0
    for pool in Pool.objects.filter(
        pk__in=Membership.objects.filter(status=Membership.Status.SUSPENDED).values("pool_id")
    ):
        lapsed += bulk_change_status(
            "m.pool_id = %(pool)s AND m.suspended_since <= %(last_retry_from)s",
            {"pool": pool.pk, "last_retry_from": today - dt.timedelta(days=pool.grace_days)},
            "lapse",
            f"charge still unpaid after the retry window ({pool.grace_days} days)",
        )
    written_off = write_off_lapsed()
    return {
        "charges_collected": int(retried),
        "memberships_lapsed": int(lapsed),
        "cents_written_off": int(written_off),
    }


SHORTFALL_KINDS = {
    Pool.ShortfallPolicy.SPONSOR: ("shortfall-sponsor", Account.Kind.SPONSOR),
    Pool.ShortfallPolicy.CARRY_FORWARD: ("shortfall-carried", Account.Kind.CARRIED_FORWARD),
}


def shortfall_source(pool: Pool, kind: str) -> Account:
    """The account that covers a write-off: the sponsor (one for all pools) or the pool's
    carried-forward account."""
    return system_account(kind, pool if kind == Account.Kind.CARRIED_FORWARD else None)


def write_off_lapsed() -> int:
    """Write off the unpaid charges of lapsed memberships (SPEC 6), per pool one ledger
    transaction from what covers them (the pool's shortfall policy) to the pool reserve, the
    amounts recorded on their batches. Idempotent: a charge written off is no longer
    outstanding (also catches a charge that went unpaid after its membership lapsed)."""
    total = 0
    with transaction.atomic():
        due = list(
            Charge.objects.select_for_update(of=("self",))
            .filter(outstanding=True, membership__status=Membership.Status.LAPSED)
            .values_list("pk", "batch_id", "batch__pool_id", "amount_cents")
        )
        by_pool: dict[int, list] = {}
        for row in due:
            by_pool.setdefault(row[2], []).append(row)
        now = timezone.now()
        for pool in Pool.objects.filter(pk__in=by_pool).order_by("pk"):
            rows = by_pool[pool.pk]
            amount = sum(row[3] for row in rows)
            kind, source = SHORTFALL_KINDS[pool.shortfall_policy]
            txn = None
            if amount:
                reserve = system_account(Account.Kind.POOL_RESERVE, pool)
                txn = post(
                    kind,
                    [(shortfall_source(pool, source), -amount), (reserve, amount)],
                    memo=f"charges of lapsed memberships written off ({pool.shortfall_policy})",
                )
            Charge.objects.filter(pk__in=[row[0] for row in rows]).update(
                outstanding=False, written_off_at=now, ledger_txn_id=txn.pk if txn else None
            )
            field = (
                "shortfall_sponsor_cents"
                if source == Account.Kind.SPONSOR
                else "shortfall_carried_cents"
            )
            per_batch: dict[int, int] = {}
            for _pk, batch_id, _pool, cents in rows:
                per_batch[batch_id] = per_batch.get(batch_id, 0) + cents
            for batch_id, cents in per_batch.items():
                Batch.objects.filter(pk=batch_id).update(**{field: F(field) + cents})
            total += amount
    if total:
        pagecache.bump(pagecache.MEMBERS, pagecache.REPORTS)
    return total
