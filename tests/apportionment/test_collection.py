"""Collection from wallets, suspension, settling by top-up, payout, and a balanced ledger."""

import datetime as dt

import pytest

from apportionment import collection, engine, publishing
from apportionment.models import Batch, Charge, Chunk
from claims.models import Claim
from ledger.services import (
    balances_match_entries,
    unbalanced_transactions,
    wallet_for,
)
from members.models import Membership, Person
from tests.apportionment.helpers import (
    approved_claim,
    bulk_members,
    collect,
    run_all_chunks,
    top_up,
)
from tests.factories import MembershipFactory, PersonFactory, PoolFactory


@pytest.fixture
def family_pool(db):
    """Alice (holder) with her child and her parent; a claimant's membership pays 100 too."""
    pool = PoolFactory(fee_rate_bp=0, annual_cap_cents=10**9)
    alice = MembershipFactory(pool=pool)
    account = alice.person.account
    joined = alice.joined_at
    child = MembershipFactory(
        pool=pool,
        person=PersonFactory(account=account, relationship=Person.Relationship.CHILD),
        joined_at=joined + dt.timedelta(days=1),
    )
    parent = MembershipFactory(
        pool=pool,
        person=PersonFactory(account=account, relationship=Person.Relationship.PARENT),
        joined_at=joined + dt.timedelta(days=2),
    )
    claim = approved_claim(pool, 400)  # 400 over 4 participants: 100 each
    return pool, alice, child, parent, claim


def test_holder_first_then_family_in_joining_order(family_pool):
    pool, alice, child, parent, claim = family_pool
    account = alice.person.account
    top_up(account, 250)  # covers alice (100) and the child (100), not the parent
    top_up(claim.claimant, 100)
    batch = run_all_chunks(publishing.start_batch(pool))
    assert set(Charge.objects.filter(batch=batch).values_list("amount_cents", flat=True)) == {100}
    assert {c.payment_status for c in Charge.objects.filter(batch=batch)} == {"due"}
    batch = collect(batch)

    status = {c.membership_id: c.payment_status for c in Charge.objects.filter(batch=batch)}
    assert status[alice.pk] == status[child.pk] == "paid" and status[parent.pk] == "unpaid"
    assert wallet_for(account).balance_cents == 50
    parent.refresh_from_db()
    assert parent.status == Membership.Status.SUSPENDED
    assert parent.status_changes.last().to_status == Membership.Status.SUSPENDED
    # the claim is paid to the claimant's wallet and ends that membership
    assert batch.status == Batch.Status.PAID_OUT
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    assert wallet_for(claim.claimant).balance_cents == 400
    assert Membership.objects.get(pk=claim.membership_id).status == Membership.Status.PAID_OUT
    assert not unbalanced_transactions().exists()
    assert balances_match_entries()


def test_top_up_settles_unpaid_charges_and_reactivates(family_pool):
    pool, alice, child, parent, claim = family_pool
    account = alice.person.account
    batch = collect(run_all_chunks(publishing.start_batch(pool)))
    assert Charge.objects.filter(batch=batch, outstanding=True).count() == 4
    # the claimant's membership was suspended too, then ended by the payout
    assert Membership.objects.filter(status="suspended").count() == 3

    top_up(account, 300)
    collection.settle_unpaid_charges(account)
    for membership in (alice, child, parent):
        membership.refresh_from_db()
        assert membership.status == Membership.Status.ACTIVE
    assert wallet_for(account).balance_cents == 0
    assert not unbalanced_transactions().exists() and balances_match_entries()


def test_only_a_published_batch_is_collected(family_pool):
    pool, *_ = family_pool
    batch = publishing.start_batch(pool)  # still publishing: chunks not run
    with pytest.raises(Exception, match="Only a published batch"):
        collection.start_collection(batch)


@pytest.mark.parametrize("phase", ["publish", "collect"])
@pytest.mark.parametrize("first_to_finish", ["first run", "second run"])
def test_a_chunk_sent_again_while_running_is_done_once(db, phase, first_to_finish):
    """The sweeper re-sends a chunk whose first run is slow but alive: whichever run takes the
    chunk's lock first does the work; the other finds it done, so no charge is written twice
    and no wallet is debited twice."""
    pool = PoolFactory(fee_rate_bp=0, annual_cap_cents=10**9)
    account = bulk_members(pool, 60)
    top_up(account, 10_000)
    claim = approved_claim(pool, 6_100)  # 61 participants: 100 each
    top_up(claim.claimant, 100)
    batch = publishing.start_batch(pool, chunk_size=1_000)
    if phase == "collect":
        collection.start_collection(run_all_chunks(batch))
    chunk = batch.chunks.get(phase=phase)
    first = engine.claim_chunk(chunk.pk)
    Chunk.objects.filter(pk=chunk.pk).update(status=Chunk.Status.PENDING)  # the sweeper
    if first_to_finish == "second run":
        assert engine.run_chunk(chunk.pk).endswith("rows")
        assert engine.run_claimed_chunk(first) == "done by another run"
    else:
        assert engine.run_claimed_chunk(first).endswith("rows")
        assert engine.run_chunk(chunk.pk) == "not pending"

    batch.refresh_from_db()
    assert Charge.objects.filter(batch=batch).count() == 61 == batch.participants
    if phase == "publish":
        assert batch.status == Batch.Status.PUBLISHED, batch.message
    else:
        assert batch.status == Batch.Status.PAID_OUT
        assert wallet_for(account).balance_cents == 10_000 - 60 * 100
        assert balances_match_entries()
