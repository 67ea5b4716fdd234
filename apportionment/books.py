"""The books of SPEC 6, checked over the whole ledger (`python manage.py verify_books`).

- every ledger transaction's lines sum to zero, and every account's balance is its lines' sum;
- every public batch: its charges plus the sponsor subsidy S equal its amount A, and its
  recorded shortfall equals its charges written off now;
- every pool: its reserve's balance is minus its unpaid charges still in their retry window
  (plus, for a batch collected but not yet paid out, the payouts it still owes); nothing is
  lost and nobody is silently short. A pool with a batch collecting is checked once it is done.
"""

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from apportionment.models import Batch, BatchClaim, Charge
from claims.models import Claim
from ledger.models import Account
from ledger.services import balances_match_entries, unbalanced_transactions
from pools.models import Pool


def check_books() -> tuple[list[str], list[str]]:
    """(problems, lines of what was checked)."""
    problems, checked = [], []
    unbalanced = list(unbalanced_transactions()[:10])
    if unbalanced:
        problems.append(f"ledger transactions whose lines do not sum to zero: {unbalanced}")
    if not balances_match_entries():
        problems.append("an account's balance differs from the sum of its ledger lines")
    for batch in Batch.objects.filter(status__in=Batch.PUBLIC_STATUSES).order_by("pk"):
        totals = Charge.objects.of_batch(batch.pk).aggregate(
            charged=Coalesce(Sum("amount_cents"), 0),
            written_off=Coalesce(Sum("amount_cents", filter=Q(written_off_at__isnull=False)), 0),
            count=Count("pk"),
        )
        if totals["charged"] + batch.subsidy_cents != batch.amount_cents:
            problems.append(
                f"batch {batch.pk}: charges {totals['charged']} + S {batch.subsidy_cents} "
                f"≠ A {batch.amount_cents}"
            )
        if totals["written_off"] != batch.shortfall_cents:
            problems.append(
                f"batch {batch.pk}: shortfall recorded {batch.shortfall_cents}, charges "
                f"written off {totals['written_off']}"
            )
    for pool in Pool.objects.order_by("pk"):
        if Batch.objects.filter(pool=pool, status=Batch.Status.COLLECTING).exists():
            checked.append(f"pool {pool.slug}: a batch is collecting, reserve checked later")
            continue
        reserve = Account.objects.filter(
            kind=Account.Kind.POOL_RESERVE, pool=pool, owner__isnull=True
        ).first()
        balance = reserve.balance_cents if reserve else 0
        unpaid = Charge.objects.filter(outstanding=True, batch__pool=pool).aggregate(
            total=Coalesce(Sum("amount_cents"), 0)
        )["total"]
        payouts_owed = (
            BatchClaim.objects.filter(batch__pool=pool, batch__status=Batch.Status.COLLECTED)
            .exclude(claim__status=Claim.Status.PAID)
            .aggregate(total=Coalesce(Sum("payout_cents"), 0))["total"]
        )
        expected = -unpaid + payouts_owed
        line = (
            f"pool {pool.slug}: reserve {balance}, unpaid charges in their window {unpaid}, "
            f"payouts owed {payouts_owed}"
        )
        if balance != expected:
            problems.append(f"{line}: the reserve should be {expected}")
        else:
            checked.append(f"{line}: balanced")
    return problems, checked
