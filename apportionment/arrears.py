"""What members owe after collection (SPEC 3 and 6): the daily retry of unpaid charges, the lapse
at the end of the retry window, write-offs by the pool's shortfall policy, reinstatement's
payment of written-off charges, and the refund of a membership that ended while waiting."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apportionment.collection import collect_for_accounts
from apportionment.models import Batch, Charge
from ledger.models import Account
from ledger.models import Transaction as LedgerTransaction
from ledger.services import post, system_account, wallet_for
from members.bulk import bulk_change_status
from members.models import Membership
from mutualaid import pagecache
from pools.models import Pool
from pools.rules import rules_on


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
        grace_days = rules_on(pool, today).grace_days
        last_retry_from = today - dt.timedelta(days=grace_days)
        lapsed += bulk_change_status(
            Membership.objects.filter(pool=pool, suspended_since__lte=last_retry_from),
            transition="lapse",
            cause=f"charge still unpaid after the retry window ({grace_days} days)",
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


def pay_written_off_charges(membership: Membership) -> int:
    """Reinstatement's money (SPEC 3): the membership's written-off charges are paid from the
    account holder's wallet, and what covered them is paid back (the sponsor, or the pool's
    carried-forward account, which a later batch then collects less from), so nobody pays
    twice. Returns the cents paid; raises ValidationError if the wallet is short."""

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


def refund_membership_charges(membership: Membership) -> int:
    """Give back every share a membership paid, and settle what it still owes, from the sponsor.

    For a membership that ended in its observation period (SPEC 3): the pool has already paid
    those shares out to claimants, so the sponsor funds the refund; unpaid shares of published
    batches are paid by the sponsor too, so every batch still balances. Returns the refund.
    """

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
