"""One retry window (SPEC 3): unpaid charges are retried daily for the pool's `grace_days`
after the collection day; the membership lapses when the last retry fails, and not before."""

import datetime as dt

import pytest

from apportionment import arrears, tasks
from apportionment.models import Charge
from members.models import Membership
from tests.apportionment.helpers import collect, family, published_batch, top_up
from tests.factories import PoolFactory

COLLECTED_ON = dt.date(2026, 12, 27)  # the day before a collection day (14th, 28th)


@pytest.fixture
def suspended(db):
    """Alice's 100.00 was not covered on collection day, the 27th."""
    pool = PoolFactory(fee_rate_bp=0, annual_cap_cents=10**9, collect_days="14,28")
    account, (alice,) = family(pool, 1)
    collect(published_batch(pool, {alice: 10_000}))
    alice.refresh_from_db()
    assert alice.status == Membership.Status.SUSPENDED
    Membership.objects.filter(pk=alice.pk).update(suspended_since=COLLECTED_ON)
    return pool, account, alice


def status_after(alice, today):
    arrears.daily_retry_and_lapse(today)
    alice.refresh_from_db()
    return alice.status


def test_the_pool_default_window_is_five_days(db):
    assert PoolFactory().grace_days == 5


@pytest.mark.parametrize("grace_days", [5, 1, 9])
def test_lapse_on_collection_day_plus_grace_days_and_not_before(suspended, grace_days):
    pool, _account, alice = suspended
    pool.grace_days = grace_days
    pool.save()
    last_retry = COLLECTED_ON + dt.timedelta(days=grace_days)
    for day in range(1, grace_days):  # every retry day but the last
        assert status_after(alice, COLLECTED_ON + dt.timedelta(days=day)) == "suspended"
    assert status_after(alice, last_retry) == "lapsed"
    change = alice.status_changes.get(to_status="lapsed")
    assert change.from_status == "suspended" and f"{grace_days} days" in change.cause
    assert status_after(alice, last_retry + dt.timedelta(days=1)) == "lapsed"
    assert alice.status_changes.filter(to_status="lapsed").count() == 1  # idempotent


def test_a_run_made_late_lapses_once_and_a_late_run_inside_the_window_does_not(suspended):
    pool, _account, alice = suspended
    # the job did not run for days; its first run is still inside the window
    assert status_after(alice, COLLECTED_ON + dt.timedelta(days=4)) == "suspended"
    # ... then nothing until well after the window: one lapse
    assert status_after(alice, COLLECTED_ON + dt.timedelta(days=12)) == "lapsed"
    assert status_after(alice, COLLECTED_ON + dt.timedelta(days=13)) == "lapsed"
    assert alice.status_changes.filter(to_status="lapsed").count() == 1


def test_the_last_retry_day_still_pays_and_then_nothing_lapses(suspended):
    _pool, account, alice = suspended
    top_up(account, 10_000)  # the money is there by the last retry (a card fixed late)
    result = tasks.retry_unpaid_charges(str(COLLECTED_ON + dt.timedelta(days=5)))
    assert result == {"charges_collected": 1, "memberships_lapsed": 0, "cents_written_off": 0}
    assert all(type(value) is int for value in result.values())  # no Decimal
    alice.refresh_from_db()
    assert alice.status == "active"
    assert not Charge.objects.filter(outstanding=True).exists()
    assert status_after(alice, COLLECTED_ON + dt.timedelta(days=30)) == "active"


def test_a_suspension_a_day_before_the_next_collection_day_still_gets_its_retries(suspended):
    """The old rule (lapse 2 days before the next collection day) lapsed a suspension on the
    27th at once: no retry day at all."""
    _pool, _account, alice = suspended
    assert status_after(alice, COLLECTED_ON) == "suspended"
    assert status_after(alice, dt.date(2026, 12, 31)) == "suspended"
    assert status_after(alice, dt.date(2027, 1, 1)) == "lapsed"
