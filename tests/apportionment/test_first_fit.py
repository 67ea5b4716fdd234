"""Collection, first fit in paying order (SPEC 3): a charge is paid if what remains in the wallet
covers it, otherwise it stays unpaid and the next charges are still tried; 0.00 always fits."""

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apportionment import collection
from apportionment.models import Batch, Charge
from ledger.services import balances_match_entries, unbalanced_transactions, wallet_for
from members.models import Membership
from tests.apportionment.helpers import collect, family, published_batch, top_up
from tests.factories import PoolFactory, UserFactory


@pytest.fixture
def pool(db):
    return PoolFactory(fee_rate_bp=0, annual_cap_cents=10**9)


def test_a_zero_charge_after_an_uncovered_one_is_paid_and_the_membership_stays_active(pool):
    """The child at the annual cap owes 0.00; the holder's 10.00 is not covered."""
    account, (holder, child) = family(pool, 2)
    top_up(account, 500)
    batch = collect(published_batch(pool, {holder: 1000, child: 0}))

    status = {c.membership_id: c.payment_status for c in Charge.objects.filter(batch=batch)}
    assert status == {holder.pk: "unpaid", child.pk: "paid"}
    child.refresh_from_db()
    holder.refresh_from_db()
    assert child.status == Membership.Status.ACTIVE
    assert not child.status_changes.filter(to_status="suspended").exists()
    assert holder.status == Membership.Status.SUSPENDED
    assert wallet_for(account).balance_cents == 500  # nothing taken for the unpaid 10.00


def test_a_later_smaller_family_charge_is_paid_when_an_earlier_larger_one_does_not_fit(pool):
    account, (holder, spouse, child) = family(pool, 3)
    top_up(account, 600)
    batch = collect(published_batch(pool, {holder: 300, spouse: 500, child: 250}))

    status = {c.membership_id: c.payment_status for c in Charge.objects.filter(batch=batch)}
    assert status == {holder.pk: "paid", spouse.pk: "unpaid", child.pk: "paid"}
    assert wallet_for(account).balance_cents == 50
    spouse.refresh_from_db()
    child.refresh_from_db()
    assert (spouse.status, child.status) == ("suspended", "active")
    assert not unbalanced_transactions().exists() and balances_match_entries()


def test_the_retry_is_first_fit_too_oldest_batch_first(pool):
    account, (holder, child) = family(pool, 2)
    older = published_batch(pool, {holder: 400, child: 100}, Batch.Status.PAID_OUT, True)
    newer = published_batch(pool, {holder: 300, child: 50}, Batch.Status.PAID_OUT, True)
    top_up(account, 550)
    with transaction.atomic():
        paid = collection.collect_for_accounts(None, account.pk, account.pk)
    assert paid == 3 and type(paid) is int  # not a Decimal
    unpaid = Charge.objects.filter(outstanding=True).values_list("batch_id", "membership_id")
    assert set(unpaid) == {(newer.pk, holder.pk)}
    assert set(Charge.objects.filter(paid_at__isnull=False).values_list("batch_id", flat=True)) == {
        older.pk,
        newer.pk,
    }
    assert wallet_for(account).balance_cents == 0
    holder.refresh_from_db()
    assert holder.status == "suspended"  # its newer charge did not fit


# --- the property: the database's first fit equals a plain-Python one -----------------------


def reference_first_fit(wallets: dict, charges: list) -> tuple[set, dict]:
    """Plain Python: charges are (key, account, batch, is_holder, joined, membership, amount)."""
    remaining = dict(wallets)
    paid = set()
    in_order = sorted(charges, key=lambda c: (c[1], c[2], not c[3], c[4], c[5]))
    for key, account, _batch, _holder, _joined, _membership, amount in in_order:
        if amount <= remaining[account]:
            remaining[account] -= amount
            paid.add(key)
    return paid, remaining


accounts_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=900),  # wallet
        st.lists(  # per membership of the family: its charge in each of up to 3 batches
            st.lists(st.integers(min_value=0, max_value=400), min_size=3, max_size=3),
            min_size=1,
            max_size=4,
        ),
        st.permutations(range(4)),  # the order the family joined in (not their ids' order)
    ),
    min_size=1,
    max_size=3,
)


class Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    accounts=accounts_strategy, batches=st.integers(min_value=1, max_value=3), retry=st.booleans()
)
def test_property_first_fit_equals_a_plain_python_reference(accounts, batches, retry):
    """On collection day (one batch) and on a retry (every outstanding charge of several
    batches), over random families, wallets and charges."""
    if not retry:
        batches = 1
    try:
        with transaction.atomic():
            pool = PoolFactory(fee_rate_bp=0, annual_cap_cents=10**9)
            wallets, charges, plans = {}, [], []
            for wallet, per_member, joining in accounts:
                account, members = family(pool, len(per_member))
                base = members[0].joined_at
                for rank, membership in zip(joining, members, strict=False):
                    # the holder joins at any rank; the family's joining order is shuffled
                    Membership.objects.filter(pk=membership.pk).update(
                        joined_at=base + dt.timedelta(days=rank)
                    )
                    membership.joined_at = base + dt.timedelta(days=rank)
                if wallet:
                    top_up(account, wallet)
                wallets[account.pk] = wallet
                plans.append((account, members, per_member))
            status = Batch.Status.PAID_OUT if retry else Batch.Status.PUBLISHED
            made = []
            for b in range(batches):
                amounts = {
                    m: amounts_of_m[b]
                    for _account, members, per_member in plans
                    for m, amounts_of_m in zip(members, per_member, strict=True)
                }
                batch = published_batch(pool, amounts, status, outstanding=retry)
                made.append(batch)
                for m, amount in amounts.items():
                    is_holder = m.person.relationship == "self"
                    key = (batch.pk, m.pk)
                    charges.append(
                        (key, m.person.account_id, batch.pk, is_holder, m.joined_at, m.pk, amount)
                    )
            lo, hi = min(wallets), max(wallets)
            collection.collect_for_accounts(None if retry else made[0], lo, hi)

            expected_paid, expected_left = reference_first_fit(wallets, charges)
            rows = Charge.objects.filter(batch__in=made)
            unpaid = set(rows.filter(outstanding=True).values_list("batch_id", "membership_id"))
            all_keys = {c[0] for c in charges}
            assert all_keys - unpaid == expected_paid
            for account_pk, left in expected_left.items():
                assert wallet_for(UserFactory._meta.model(pk=account_pk)).balance_cents == left
            # a membership is suspended exactly when one of its charges is unpaid
            suspended = set(
                Membership.objects.filter(pool=pool, status="suspended").values_list(
                    "pk", flat=True
                )
            )
            assert suspended == {membership for _batch, membership in unpaid}
            assert not unbalanced_transactions().exists() and balances_match_entries()
            raise Rollback
    except Rollback:
        pass
