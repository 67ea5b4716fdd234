"""Cost forecast (SPEC 11): what the next batch of a pool will ask of each member.

The share of the next batch comes from the payouts P it will include:
- the approved claims not yet in a batch count in full (they will be in it);
- each claim in review counts with its payout (set at approval; before that, the benefit
  schedule's payout for the person's age at diagnosis) times the probability that it reaches
  approval: the pool's past rate of approval of the claims that were in its current stage,
  from the claim events (claims that passed through the stage and are resolved: approved at some
  point, or rejected or withdrawn now). With no resolved claim from that stage the rate is
  DEFAULT_APPROVAL_RATE.
From P, the share is computed as the engine does (apportionment's `round_half_up_fee` for F,
`carried_forward_due` for D or U, `Figures.base_share` for A div N), with N the memberships
waiting or active now (those expected at the next cut-off).

Low and high: the 10th and 90th percentiles of P, the claims in review taken as independent
Bernoulli trials, in the normal approximation (mean + z × standard deviation, z = ±1.2816),
kept within what can happen (no claim in review approved / all of them approved). The annual cap
is not applied: the forecast is the base share before any member reaches the cap.
"""

import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import DatabaseError, connections, router, transaction
from django.db.models import Count, Q, prefetch_related_objects
from django.utils import timezone

# The engine's formula, reused (not copied): see the module docstring.
from apportionment.figures import Figures, carried_forward_due, round_half_up_fee
from apportionment.models import Batch
from claims.models import Claim
from ledger.models import Account
from members.models import Membership
from pools.models import Pool
from reports.models import ShareForecast

S = Claim.Status
# The stages of review, in order: a claim in one of them may still be approved.
REVIEW_STATUSES = (
    S.SUBMITTED,
    S.INVESTIGATING,
    S.NEEDS_INFO,
    S.INVESTIGATED,
    S.PUBLIC_NOTICE,
    S.PANEL_REVIEW,
)
# A claim's outcome is known once it was approved, or is rejected or withdrawn now.
UNAPPROVED_ENDS = (S.REJECTED, S.WITHDRAWN)
DEFAULT_APPROVAL_RATE = Decimal("0.5")  # a pool with no resolved claim from a stage
Z_90 = Decimal("1.2816")  # the standard normal's 90th percentile
PARTICIPANT_STATUSES = Membership.PARTICIPATING_STATUSES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageRate:
    rate: Decimal
    approved: int = 0
    resolved: int = 0  # 0: no history, the default rate

    @property
    def is_default(self) -> bool:
        return self.resolved == 0


@dataclass
class Forecast:
    pool: Pool
    made_at: object
    participants: int = 0
    approved_claims: int = 0
    approved_cents: int = 0  # certain: approved, not yet in a batch
    review_claims: int = 0
    review_cents: int = 0  # the claims in review, if all were approved
    expected_payouts_cents: int = 0
    low_payouts_cents: int = 0
    high_payouts_cents: int = 0
    carried: int = 0  # D (or, negative, the surplus U)
    low_cents: int = 0
    expected_cents: int = 0
    high_cents: int = 0
    rates: dict = field(default_factory=dict)  # status: StageRate

    # Whether a claim in review was weighted by the default rate (its stage has no history).
    uses_default_rate: bool = False

    @property
    def default_rate_percent(self) -> int:
        return int(DEFAULT_APPROVAL_RATE * 100)


def _rates_sql(pools: int) -> str:
    """The rates' query for `pools` pool ids. Portable SQL (the embedded SQLite default has no
    `= ANY(array)`): the statuses are the model's own constants, written as literals."""
    ends = ", ".join(f"'{status}'" for status in UNAPPROVED_ENDS)
    stages = ", ".join(f"'{status}'" for status in REVIEW_STATUSES)
    return f"""
    SELECT c.pool_id, e.to_status,
           COUNT(DISTINCT e.claim_id) FILTER (WHERE ok.claim_id IS NOT NULL),
           COUNT(DISTINCT e.claim_id) FILTER (
               WHERE ok.claim_id IS NOT NULL OR c.status IN ({ends}))
    FROM claims_claimevent e
    JOIN claims_claim c ON c.id = e.claim_id
    LEFT JOIN (SELECT DISTINCT claim_id FROM claims_claimevent WHERE to_status = 'approved') ok
        ON ok.claim_id = e.claim_id
    WHERE c.pool_id IN ({", ".join(["%s"] * pools)}) AND e.to_status IN ({stages})
    GROUP BY c.pool_id, e.to_status
    """


def approval_rates(pool_ids: list[int]) -> dict[int, dict[str, StageRate]]:
    """Per pool and review stage: the share of the resolved claims that were in that stage and
    were approved (one query for every pool)."""
    rates = {
        pk: dict.fromkeys(REVIEW_STATUSES, StageRate(DEFAULT_APPROVAL_RATE)) for pk in pool_ids
    }
    if not pool_ids:
        return rates
    # Raw SQL is not routed by itself: read where the ORM would (the replica, on public pages).
    with connections[router.db_for_read(Claim)].cursor() as cursor:
        cursor.execute(_rates_sql(len(pool_ids)), list(pool_ids))
        for pool_id, stage, approved, resolved in cursor.fetchall():
            if resolved:
                rates[pool_id][stage] = StageRate(Decimal(approved) / resolved, approved, resolved)
    return rates


def share(pool: Pool, payouts: int, participants: int, carried: int) -> int:
    """The base share for payouts P, as the engine computes it."""
    figures = Figures(
        pool=pool,
        cutoff=None,
        payouts=payouts,
        fee=round_half_up_fee(payouts, pool.fee_rate_bp),
        carried=max(carried, 0),
        surplus=max(-carried, 0),
        participants=participants,
    )
    return max(figures.base_share, 0)


def _cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _payout_estimate(claim: Claim, bands) -> int:
    """The claim's payout: set at approval; before, the schedule's for the age at diagnosis."""
    if claim.payout_cents is not None:
        return claim.payout_cents
    age = claim.membership.person.age_on(claim.diagnosis_date)
    return next((b.payout_cents for b in bands if b.min_age <= age <= b.max_age), 0)


def forecasts(pools: list[Pool], *, now=None) -> dict[int, Forecast]:
    """The forecast of the next batch of each pool, in a fixed number of queries whatever the
    number of pools and claims (plus two per pool that carries a shortfall forward)."""
    now = now or timezone.now()
    ids = [pool.pk for pool in pools]
    result = {pool.pk: Forecast(pool=pool, made_at=now) for pool in pools}
    if not ids:
        return result
    rates = approval_rates(ids)
    for pk, forecast in result.items():
        forecast.rates = rates[pk]
    participants = (
        Membership.objects.filter(pool__in=ids, status__in=PARTICIPANT_STATUSES)
        .values("pool")
        .annotate(n=Count("pk"))
    )
    for row in participants:
        result[row["pool"]].participants = row["n"]
    prefetch_related_objects(pools, "benefit_bands")  # not again when the page prefetched them
    mean = {pk: Decimal(0) for pk in ids}
    variance = {pk: Decimal(0) for pk in ids}
    open_claims = Claim.objects.filter(
        Q(status__in=REVIEW_STATUSES)
        | Q(status=S.APPROVED, batch_claim__isnull=True, payout_cents__isnull=False),
        pool__in=ids,
        scheme__isnull=True,  # a sponsored scheme's claims are the sponsor's, never apportioned
    ).select_related("membership__person")
    for claim in open_claims:
        forecast = result[claim.pool_id]
        if claim.status == S.APPROVED:  # certain: it will be in the next batch
            forecast.approved_claims += 1
            forecast.approved_cents += claim.payout_cents
            continue
        payout = _payout_estimate(claim, forecast.pool.benefit_bands.all())
        rate = forecast.rates[claim.status]
        p = rate.rate
        forecast.uses_default_rate |= rate.is_default
        forecast.review_claims += 1
        forecast.review_cents += payout
        mean[claim.pool_id] += p * payout
        variance[claim.pool_id] += p * (1 - p) * payout * payout
    carrying = set(
        Account.objects.filter(
            kind=Account.Kind.CARRIED_FORWARD, pool__in=ids, owner__isnull=True
        ).values_list("pool_id", flat=True)
    )
    for pk, forecast in result.items():
        pool = forecast.pool
        forecast.carried = carried_forward_due(pool) if pk in carrying else 0
        spread = Z_90 * variance[pk].sqrt()
        certain = forecast.approved_cents
        forecast.expected_payouts_cents = certain + _cents(mean[pk])
        forecast.low_payouts_cents = max(certain, _cents(certain + mean[pk] - spread))
        forecast.high_payouts_cents = min(
            certain + forecast.review_cents, _cents(certain + mean[pk] + spread)
        )
        n, d = forecast.participants, forecast.carried
        forecast.low_cents = share(pool, forecast.low_payouts_cents, n, d)
        forecast.expected_cents = share(pool, forecast.expected_payouts_cents, n, d)
        forecast.high_cents = share(pool, forecast.high_payouts_cents, n, d)
    return result


def with_forecasts(pools) -> list[Pool]:
    """The pools, each with its `forecast` (for the pages)."""
    pools = list(pools)
    result = forecasts(pools)
    for pool in pools:
        pool.forecast = result[pool.pk]
    return pools


def forecast_for(pool: Pool, *, now=None) -> Forecast:
    return forecasts([pool], now=now)[pool.pk]


def record_forecast(*, pool: Pool) -> ShareForecast:
    """Store the pool's forecast now as its pending forecast (of its next batch)."""
    forecast = forecast_for(pool)
    return ShareForecast.objects.create(
        pool=pool,
        made_at=forecast.made_at,
        participants=forecast.participants,
        approved_cents=forecast.approved_cents,
        review_cents=forecast.review_cents,
        expected_payouts_cents=forecast.expected_payouts_cents,
        low_cents=forecast.low_cents,
        expected_cents=forecast.expected_cents,
        high_cents=forecast.high_cents,
    )


def on_batch_published(sender=None, batch=None, **kwargs):
    """The pool's pending forecast is this batch's (forecast against actual on its report);
    then the forecast of the next batch is recorded. Runs in the publishing transaction, in a
    savepoint: a failure here is logged and never fails the publication."""
    if ShareForecast.objects.filter(batch=batch).exists():
        return  # the signal sent again (apportionment's sweeper): recorded already
    try:
        with transaction.atomic():
            ShareForecast.objects.filter(pool_id=batch.pool_id, batch__isnull=True).update(
                batch=batch
            )
            record_forecast(pool=batch.pool)
    except DatabaseError:
        log.exception("forecast of batch %s not recorded", batch.pk)


def forecast_history(pool_ids: list[int]) -> dict[int, list[ShareForecast]]:
    """Per pool, its published batches' forecasts, oldest first (one query)."""
    history: dict[int, list[ShareForecast]] = {pk: [] for pk in pool_ids}
    rows = (
        ShareForecast.objects.filter(pool__in=pool_ids, batch__status__in=Batch.PUBLIC_STATUSES)
        .select_related("batch")
        .order_by("batch__cutoff_at", "pk")
    )
    for row in rows:
        history[row.pool_id].append(row)
    return history
