"""A batch's figures (SPEC 6): P, F, U, D, A, N, the base share and the remainder, computed the
same way for the preview (which writes nothing) and for the run."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apportionment import odd_cent, sql
from apportionment.models import Batch
from claims.models import Claim
from ledger.models import Account
from mutualaid.pairkeys import pair_key
from pools.models import Pool, WindDown
from pools.rules import Rules, rules_on

DEFAULT_CHUNK_SIZE = 50_000


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
    sponsor_reason: str = ""  # why the sponsor pays the whole amount (S = A), if it does
    # The pool's rules in force on the cut-off's day (`rules_at`), read once for the batch.
    fee_rate_bp: int = 0
    annual_cap_cents: int = 0
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


def rules_at(pool: Pool, cutoff: datetime) -> Rules:
    """The pool's rules in force on the cut-off's day in its calendar (SPEC 11): the fee and
    the cap of a batch are those of its cut-off, whatever the pool row caches."""
    return rules_on(pool, pool.date_of(cutoff))


def round_half_up_fee(payouts: int, fee_rate_bp: int) -> int:
    """F = round-half-up(P × rate), in integer arithmetic (rate in basis points)."""
    return (payouts * fee_rate_bp * 2 + 10_000) // 20_000


def _approved_by(pool: Pool, cutoff: datetime):
    return Claim.objects.filter(
        pool=pool, status=Claim.Status.APPROVED, approved_at__lte=cutoff, payout_cents__isnull=False
    )


def claims_due(pool: Pool, cutoff: datetime):
    """Approved claims of the pool approved at or before T and in no earlier batch (P); a
    sponsored scheme's claims are the sponsor's, never apportioned (`scheme_claims_due`)."""
    return _approved_by(pool, cutoff).filter(batch_claim__isnull=True, scheme__isnull=True)


def scheme_claims_due(pool: Pool, cutoff: datetime):
    """Approved claims of the pool's sponsored schemes, paid by the sponsor in the payout step
    of the next batch (SPEC 11)."""
    return _approved_by(pool, cutoff).filter(scheme_payout__isnull=True, scheme__isnull=False)


def sponsor_reason(pool: Pool, cutoff: datetime) -> str:
    """Why the sponsor pays a batch's whole amount, or "": a batch started after the pool's
    wind-down was announced charges every member 0.00 (SPEC 11)."""
    if WindDown.objects.filter(pool=pool, announced_at__lte=cutoff).exists():
        return Batch.SponsorReason.WIND_DOWN
    return ""


def compute_figures(
    pool: Pool, cutoff: datetime, batch_id: int, chunk_size: int, with_cut: bool = False
) -> Figures:
    """The figures before any charge is written. The odd-cent cut costs a hash of every
    participant: a run leaves it to its chunks, which hash them anyway (`settle_odd_cents`)."""
    claims = claims_due(pool, cutoff)
    figures = Figures(pool=pool, cutoff=cutoff, sponsor_reason=sponsor_reason(pool, cutoff))
    figures.claim_ids = list(claims.values_list("pk", flat=True))
    figures.payouts = claims.aggregate(total=Sum("payout_cents"))["total"] or 0
    rules = rules_at(pool, cutoff)
    figures.fee_rate_bp, figures.annual_cap_cents = rules.fee_rate_bp, rules.annual_cap_cents
    figures.fee = round_half_up_fee(figures.payouts, figures.fee_rate_bp)
    carried = carried_forward_due(pool)
    figures.carried, figures.surplus = max(carried, 0), max(-carried, 0)
    params = {"pool": pool.pk, "cutoff": cutoff, "batch": batch_id}
    first, last, figures.participants = sql.fetchone(
        f"SELECT MIN(m.id), MAX(m.id), COUNT(*) FROM ({sql.participants_sql()}) m", params
    )
    if figures.empty_reason:
        return figures
    # Chunks are id ranges of equal width, as many as chunks of `chunk_size` participants;
    # numbering every participant to cut ranges of equal counts took longer than the counting.
    chunks = -(-figures.participants // chunk_size)
    figures.chunk_bounds = id_ranges(first, last, width=-(-(last - first + 1) // chunks))
    if with_cut and figures.remainder:
        figures.odd_cent_hash, figures.odd_cent_membership_id = odd_cent.odd_cent_cut(
            params, figures.participants, figures.remainder
        )
    return figures


def id_ranges(first: int, last: int, width: int) -> list[tuple[int, int]]:
    """[first, last] in consecutive ranges of `width` ids (the last one may be shorter)."""
    return [(lo, min(lo + width - 1, last)) for lo in range(first, last + 1, width)]


def cap_may_bind(batch: Batch) -> bool:
    """Whether any participant could reach the annual cap in this batch.

    No one has paid more this year than the sum of the largest shares (base + 1 cent) of the
    year's earlier batches; if that plus this batch's largest share fits under the cap, no
    share is cut and the earlier charges need not be read.
    """
    if batch.sponsor_reason:
        return False  # no room for anyone (`share_params`): what they paid before is moot
    earlier = (
        Batch.objects.filter(
            pool_id=batch.pool_id, cap_year=batch.cap_year, status__in=Batch.PUBLIC_STATUSES
        )
        .exclude(pk=batch.pk)
        .values_list("base_share_cents", "remainder_cents")
    )
    largest = sum(base + (remainder > 0) for base, remainder in earlier)
    return largest + batch.base_share_cents + 1 > batch.annual_cap_cents


def share_params(batch: Batch, lo: int, hi: int) -> dict:
    # The persons of these memberships lie in a range (a person is enrolled with their
    # membership): bounding it lets PostgreSQL hash-join them instead of one lookup a row.
    # "+ 0" keeps MIN/MAX off the person_id index, which would walk past every earlier chunk's
    # memberships (0.11 s a chunk instead of 0.01 s).
    first_person, last_person = sql.fetchone(
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
        **odd_cent.odd_cent_rule(batch),
        # A batch the sponsor pays leaves no room in anyone's cap: every share is its subsidy.
        "cap": 0 if batch.sponsor_reason else batch.annual_cap_cents,
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
        "sponsor_reason": figures.sponsor_reason,
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
            annual_cap_cents=figures.annual_cap_cents,
            cap_year=cutoff.year,
            sponsor_reason=figures.sponsor_reason,
        )
        lo, hi = figures.chunk_bounds[0][0], figures.chunk_bounds[-1][1]
        result["subsidy_cents"] = sql.fetchone(
            f"SELECT COALESCE(SUM(s.capped), 0) FROM ({sql.shares_sql(cap_may_bind(draft))}) s",
            share_params(draft, lo, hi),
        )[0]
    return result
