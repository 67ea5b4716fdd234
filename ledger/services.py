"""Posting to the ledger. Balances move only here (and in set-based batch SQL that keeps the
same rule: one transaction, entries summing to zero)."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.db.models import F, Sum

from ledger.models import Account, Entry, Transaction
from mutualaid.pairkeys import pair_key


def wallet_for(user) -> Account:
    account, _ = Account.objects.get_or_create(kind=Account.Kind.WALLET, owner=user)
    return account


def system_account(kind: str, pool=None) -> Account:
    account, _ = Account.objects.get_or_create(kind=kind, pool=pool, owner=None)
    return account


@db_transaction.atomic
def post(kind: str, lines: list[tuple[Account, int]], memo: str = "") -> Transaction:
    """Write one balanced transaction and move the balances of its accounts."""
    if sum(int(amount) for _, amount in lines) != 0:
        raise ValidationError("A ledger transaction must balance: its lines must sum to zero.")
    # One line per account: amounts for the same account are added up.
    accounts, amounts = {}, defaultdict(int)
    for account, amount in lines:
        accounts[account.pk] = account
        amounts[account.pk] += int(amount)
    lines = [(accounts[pk], amount) for pk, amount in amounts.items() if amount]
    if not lines:
        raise ValidationError("A ledger transaction needs at least one non-zero line.")
    txn = Transaction.objects.create(kind=kind, memo=memo)
    Entry.objects.bulk_create(
        Entry(
            id=pair_key(txn.pk, account.pk), transaction=txn, account=account, amount_cents=amount
        )
        for account, amount in lines
    )
    # Lock in primary-key order so two postings never deadlock on the same accounts.
    for account, amount in sorted(lines, key=lambda line: line[0].pk):
        Account.objects.filter(pk=account.pk).update(balance_cents=F("balance_cents") + amount)
    return txn


def unbalanced_transactions():
    """Transactions whose entries do not sum to zero (should always be empty)."""
    return (
        Transaction.objects.annotate(total=Sum("entries__amount_cents"))
        .exclude(total=0)
        .values_list("pk", flat=True)
    )


def balances_match_entries() -> bool:
    """Every account's cached balance equals the sum of its entries."""
    mismatched = (
        Account.objects.annotate(total=Sum("entries__amount_cents"))
        .exclude(balance_cents=F("total"))
        .exclude(total__isnull=True, balance_cents=0)
    )
    return not mismatched.exists()
