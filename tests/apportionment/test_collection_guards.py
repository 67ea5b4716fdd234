"""What the set-based collection and the publication invariant rely on, and what they do when
it breaks: a wallet debited twice or missed is an error, never an unbalanced transaction
(attacker's review of the 2026-12-07 collection change)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from apportionment import collection, partitions, publishing
from apportionment.models import Batch, Charge
from ledger.models import Account, Entry
from ledger.models import Transaction as LedgerTransaction
from ledger.services import (
    balances_match_entries,
    system_account,
    unbalanced_transactions,
    wallet_for,
)
from mutualaid.pairkeys import LOW_IDS, pair_key
from tests.apportionment.helpers import (
    collection_debit_table,
    family,
    published_batch,
    run_all_chunks,
    top_up,
)
from tests.factories import MembershipFactory, PoolFactory, UserFactory


@pytest.fixture
def pool(db):
    return PoolFactory(fee_rate_bp=0, annual_cap_cents=10**9)


def spy_on_debits(monkeypatch):
    """collection_debit as each chunk's ledger step receives it."""
    seen = []
    original = collection._post_collection

    def spy(cursor, params):
        cursor.execute("SELECT wallet_id, pool_id, amount FROM collection_debit")
        seen.append((params["lo"], params["hi"], cursor.fetchall()))
        return original(cursor, params)

    monkeypatch.setattr(collection, "_post_collection", spy)
    return seen


@pytest.mark.parametrize("chunk_size", [1, 2, 1000])
def test_collection_day_has_one_debit_a_wallet_over_awkward_accounts(pool, monkeypatch, chunk_size):
    """Accounts without a wallet (owing 0.00 or more), 0.00 charges, a household also in a
    second pool that owes there too, a wallet covering exactly, one covering part: one debit
    row a wallet, inside the chunk's owners, and the books balance."""
    other_pool = PoolFactory(fee_rate_bp=0, annual_cap_cents=10**9)
    rich, (rich_holder, rich_child) = family(pool, 2)
    top_up(rich, 10_000)
    amounts = {rich_holder: 700, rich_child: 0}
    elsewhere = {
        MembershipFactory(pool=other_pool, person=rich_holder.person): 900,
        MembershipFactory(pool=other_pool, person=rich_child.person): 400,
    }
    exact, (exact_holder,) = family(pool, 1)
    top_up(exact, 500)
    amounts[exact_holder] = 500
    part, (part_holder, part_spouse, part_child) = family(pool, 3)
    top_up(part, 600)
    amounts |= {part_holder: 300, part_spouse: 500, part_child: 250}  # first fit: 550 paid
    _no_wallet, (zero_holder, zero_child) = family(pool, 2)
    amounts |= {zero_holder: 0, zero_child: 0}
    _no_wallet_owing, (owing_holder,) = family(pool, 1)
    amounts[owing_holder] = 300
    empty, (empty_holder,) = family(pool, 1)
    wallet_for(empty)
    amounts[empty_holder] = 0
    published_batch(other_pool, elsewhere, Batch.Status.PAID_OUT, outstanding=True)
    other_batch = published_batch(other_pool, elsewhere)
    batch = published_batch(pool, amounts)
    Batch.objects.filter(pk=batch.pk).update(chunk_size=chunk_size)
    reserve_before = system_account(Account.Kind.POOL_RESERVE, pool).balance_cents

    seen = spy_on_debits(monkeypatch)
    collection.start_collection(batch)
    run_all_chunks(batch)

    assert seen
    for lo, hi, rows in seen:
        wallets = [wallet for wallet, _pool, amount in rows if amount > 0]
        assert None not in wallets and len(wallets) == len(set(wallets)), rows
        assert {pool_id for _wallet, pool_id, _amount in rows} <= {pool.pk}, rows
        owners = Account.objects.filter(pk__in=wallets).values_list("owner_id", flat=True)
        assert all(lo <= owner <= hi for owner in owners), (lo, hi, list(owners))
    assert wallet_for(rich).balance_cents == 10_000 - 700  # the other pool's charges wait
    assert wallet_for(exact).balance_cents == 0
    assert wallet_for(part).balance_cents == 600 - 550
    assert wallet_for(empty).balance_cents == 0
    reserve = system_account(Account.Kind.POOL_RESERVE, pool).balance_cents
    assert reserve - reserve_before == 700 + 500 + 300 + 250
    assert not Charge.objects.filter(batch=other_batch, outstanding=True).exists()
    assert not unbalanced_transactions().exists() and balances_match_entries()


def post(retry, lo, hi):
    with connection.cursor() as cursor:
        return collection._post_collection(
            cursor, {"retry": retry, "lo": lo, "hi": hi, "memo": "guard test"}
        )


@pytest.mark.parametrize("retry", [True, False])
def test_a_wallet_met_twice_is_summed_or_refused(pool, retry):
    """A retry sums a wallet's rows (it may owe in two pools). Collection day takes one row a
    wallet as it comes; had it two, PostgreSQL's UPDATE ... FROM would move the balance once
    and the reserve would be credited both: refused, with nothing written."""
    user = UserFactory()
    top_up(user, 1_000)
    wallet = wallet_for(user)
    collection_debit_table([(wallet.pk, pool.pk, 100), (wallet.pk, pool.pk, 200)])
    transactions = LedgerTransaction.objects.count()
    if retry:
        txn = post(retry, user.pk, user.pk)
        lines = dict(Entry.objects.of_transaction(txn.pk).values_list("account_id", "amount_cents"))
        assert lines[wallet.pk] == -300
    else:
        with pytest.raises(ValidationError, match="Nothing was collected"), transaction.atomic():
            post(retry, user.pk, user.pk)
        assert LedgerTransaction.objects.count() == transactions
    wallet.refresh_from_db()
    assert wallet.balance_cents == (700 if retry else 1_000)
    assert not unbalanced_transactions().exists() and balances_match_entries()


@pytest.mark.parametrize("where", ["an owner outside the chunk", "not a wallet"])
def test_a_debit_the_balances_statement_misses_is_refused(pool, where):
    """The owners' range and kind on the balances statement are redundant with how the
    chunk found its wallets; were they not, the missed wallet's line would vanish with it
    while the reserve was still credited: refused instead."""
    user = UserFactory()
    top_up(user, 1_000)
    account = wallet_for(user) if where != "not a wallet" else system_account("sponsor")
    owners = (user.pk + 1, user.pk + 1) if where == "an owner outside the chunk" else (0, 10**9)
    collection_debit_table([(account.pk, pool.pk, 100)])
    with pytest.raises(ValidationError, match="the wallets' lines sum to 0"), transaction.atomic():
        post(False, *owners)
    assert not unbalanced_transactions().exists() and balances_match_entries()


def totals_by_key_range(batch_id):
    totals = Charge.objects.of_batch(batch_id).aggregate(
        count=Count("pk"),
        charged=Coalesce(Sum("amount_cents"), 0),
        capped=Coalesce(Sum("capped_cents"), 0),
    )
    return totals["count"], totals["charged"], totals["capped"]


def charge(batch, membership_id, account, amount, capped=0):
    Charge.objects.create(
        id=pair_key(batch.pk, membership_id),
        batch=batch,
        membership_id=membership_id,
        account=account,
        amount_cents=amount,
        capped_cents=capped,
    )


def test_the_invariant_reads_the_batchs_partition_to_its_edges(pool):
    """Its partition whole, as its key range: the first and last keys of two neighbours."""
    account = UserFactory()
    first, second = published_batch(pool, {}), published_batch(pool, {})
    for batch, base in ((first, 1), (second, 1000)):
        charge(batch, 0, account, base)
        charge(batch, LOW_IDS - 1, account, base + 1, capped=base)
        charge(batch, 7, account, 0)
    assert publishing._charge_totals(first) == totals_by_key_range(first.pk) == (3, 3, 1)
    assert publishing._charge_totals(second) == totals_by_key_range(second.pk) == (3, 2001, 1000)
    with pytest.raises(IntegrityError), transaction.atomic():  # a row of another batch
        Charge.objects.create(
            id=pair_key(first.pk, 9), batch=second, membership_id=9, account=account
        )


def test_a_batch_without_its_partition_reads_as_no_charges(pool):
    """As the key range read it: the invariant then fails the batch with its message."""
    batch = published_batch(pool, {})
    partitions.detach_partition(batch.pk)
    assert publishing._charge_totals(batch) == (0, 0, 0)
