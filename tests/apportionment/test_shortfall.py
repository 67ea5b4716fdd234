"""Shortfall (SPEC 6): charges written off at a lapse are covered by the pool's policy, the
reserve is minus the unpaid charges still in their window, and `verify_books` proves it."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apportionment import arrears, figures, publishing
from apportionment.models import Batch, Charge
from ledger.models import Account
from ledger.services import system_account
from members.models import Membership
from tests.apportionment.helpers import approved_claim, balance, collect, run_all_chunks, top_up
from tests.factories import MembershipFactory, PoolFactory

TODAY = timezone.localdate()


def books_balance():
    call_command("verify_books")


@pytest.fixture
def lapsing(db):
    """Alice and Bob could not pay their 100.00 on collection day; Carol and the claimant did.
    Alice was suspended two days earlier than Bob (a collection before), so her window ends
    first."""

    def make(policy):
        pool = PoolFactory(fee_rate_bp=0, annual_cap_cents=10**9, shortfall_policy=policy)
        alice, bob, carol = (MembershipFactory(pool=pool) for _ in range(3))
        claim = approved_claim(pool, 40_000)  # 4 participants: 100.00 each
        top_up(carol.person.account, 1_000_000)
        top_up(claim.claimant, 10_000)
        batch = collect(run_all_chunks(publishing.start_batch(pool)))
        assert batch.status == Batch.Status.PAID_OUT
        Membership.objects.filter(pk=alice.pk).update(suspended_since=TODAY - dt.timedelta(days=2))
        reserve = balance(Account.Kind.POOL_RESERVE, pool)
        assert reserve == -20_000  # minus Alice's and Bob's unpaid charges
        books_balance()
        result = arrears.daily_retry_and_lapse(TODAY + dt.timedelta(days=3))
        assert result["memberships_lapsed"] == 1 and result["cents_written_off"] == 10_000
        for m in (alice, bob):
            m.refresh_from_db()
        assert (alice.status, bob.status) == ("lapsed", "suspended")
        batch.refresh_from_db()
        return pool, batch, alice, bob, carol, claim

    return make


def test_with_the_sponsor_the_reserve_is_back_to_minus_the_charges_still_in_their_window(lapsing):
    pool, batch, alice, bob, *_ = lapsing("sponsor")
    assert balance(Account.Kind.POOL_RESERVE, pool) == -10_000  # Bob's, still in his window
    assert balance(Account.Kind.SPONSOR) == -10_000
    assert (batch.shortfall_sponsor_cents, batch.shortfall_carried_cents) == (10_000, 0)
    charge = Charge.objects.get(batch=batch, membership=alice)
    assert charge.payment_status == "written_off" and not charge.outstanding
    assert Charge.objects.get(batch=batch, membership=bob).payment_status == "unpaid"
    books_balance()
    # idempotent: a second run writes nothing off again
    assert arrears.daily_retry_and_lapse(TODAY + dt.timedelta(days=3))["cents_written_off"] == 0
    assert balance(Account.Kind.SPONSOR) == -10_000
    # Bob's window ends too: the reserve is whole
    arrears.daily_retry_and_lapse(TODAY + dt.timedelta(days=5))
    assert balance(Account.Kind.POOL_RESERVE, pool) == 0
    assert balance(Account.Kind.SPONSOR) == -20_000
    books_balance()


def test_carried_forward_the_next_batch_amount_includes_d_exactly(lapsing):
    pool, batch, alice, bob, carol, claim = lapsing("carry_forward")
    assert balance(Account.Kind.POOL_RESERVE, pool) == -10_000
    assert balance(Account.Kind.SPONSOR) == 0
    assert balance(Account.Kind.CARRIED_FORWARD, pool) == -10_000
    assert (batch.shortfall_sponsor_cents, batch.shortfall_carried_cents) == (0, 10_000)
    books_balance()

    second = approved_claim(pool, 20_000)  # Carol and the new claimant take part: 2
    assert figures.preview(pool)["carried_in_cents"] == 10_000
    top_up(second.claimant, 100_000)
    batch2 = run_all_chunks(publishing.start_batch(pool))
    assert batch2.participants == 2
    assert batch2.carried_in_cents == 10_000
    assert batch2.amount_cents == 20_000 + 10_000  # A = P + F - U + D
    assert figures.carried_forward_due(pool) == 0  # D is in a batch: not carried twice
    batch2 = collect(batch2)
    assert batch2.status == Batch.Status.PAID_OUT
    assert balance(Account.Kind.CARRIED_FORWARD, pool) == 0
    assert balance(Account.Kind.POOL_RESERVE, pool) == -10_000  # Bob's, still in his window
    books_balance()


def test_verify_books_fails_when_the_reserve_is_short(lapsing):
    pool, *_ = lapsing("sponsor")
    reserve = system_account(Account.Kind.POOL_RESERVE, pool)
    Account.objects.filter(pk=reserve.pk).update(balance_cents=reserve.balance_cents - 1)
    with pytest.raises(CommandError, match="balance"):
        books_balance()


def test_verify_books_fails_when_a_batch_shortfall_is_not_its_write_offs(lapsing):
    _pool, batch, *_ = lapsing("sponsor")
    Batch.objects.filter(pk=batch.pk).update(shortfall_sponsor_cents=0)
    with pytest.raises(CommandError, match="shortfall recorded 0"):
        books_balance()


def test_the_batch_report_and_api_show_the_shortfall_and_how_it_was_covered(lapsing, client):
    pool, batch, alice, *_ = lapsing("sponsor")
    data = client.get(f"/api/v1/batches/{batch.pk}/").json()
    assert data["shortfall_cents"] == data["shortfall_sponsor_cents"] == 10_000
    assert data["shortfall_carried_cents"] == 0 and data["carried_in_cents"] == 0
    page = client.get(f"/reports/{batch.pk}/").content.decode()
    assert "¥100.00 paid by the sponsor" in page
    client.force_login(alice.person.account)
    (mine,) = client.get("/api/v1/charges/").json()["results"]
    assert (mine["payment_status"], mine["paid"]) == ("written_off", False)
    assert "written off at the lapse" in client.get("/charges/").content.decode()
