"""Reinstatement (SPEC 3): within 30 days of a lapse the written-off charges are paid and the
membership is active again with its original observation period; after that, a refusal."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apportionment import figures
from apportionment.models import Batch, Charge
from ledger.models import Account
from ledger.services import wallet_for
from members import services
from members.models import Membership
from tests.apportionment import test_shortfall
from tests.apportionment.helpers import balance, top_up
from tests.factories import UserFactory

lapsing = test_shortfall.lapsing  # the fixture: Alice lapsed, Bob in his window


def lapse_day(membership):
    membership.refresh_from_db()
    return timezone.localdate(membership.ended_at)


@pytest.mark.parametrize("policy", ["sponsor", "carry_forward"])
def test_reinstatement_on_day_30_pays_exactly_the_written_off_charges(lapsing, policy):
    pool, batch, alice, *_ = lapsing(policy)
    account = alice.person.account
    active_since, waiting_ends_on = alice.active_since, alice.waiting_ends_on
    top_up(account, 12_345)
    source = Account.Kind.SPONSOR if policy == "sponsor" else Account.Kind.CARRIED_FORWARD
    source_pool = None if policy == "sponsor" else pool
    assert balance(source, source_pool) == -10_000

    day_30 = lapse_day(alice) + dt.timedelta(days=30)
    alice = services.reinstate_membership(alice, account, today=day_30)

    assert alice.status == Membership.Status.ACTIVE and alice.ended_at is None
    assert (alice.active_since, alice.waiting_ends_on) == (active_since, waiting_ends_on)
    change = alice.status_changes.last()
    assert (change.from_status, change.to_status, change.actor) == ("lapsed", "active", account)
    assert wallet_for(account).balance_cents == 2_345  # exactly the 100.00 written off
    assert balance(source, source_pool) == 0  # paid back: nobody pays twice
    charge = Charge.objects.get(batch=batch, membership=alice)
    assert charge.payment_status == "paid" and charge.written_off_at is None
    batch.refresh_from_db()
    assert batch.shortfall_cents == 0
    assert figures.carried_forward_due(pool) == 0  # nothing left for line D
    call_command("verify_books")


def test_reinstatement_on_day_31_is_refused_and_nothing_moves(lapsing):
    _pool, batch, alice, *_ = lapsing("sponsor")
    account = alice.person.account
    top_up(account, 10_000)
    day_31 = lapse_day(alice) + dt.timedelta(days=31)
    with pytest.raises(ValidationError, match="more than 30 days ago") as refused:
        services.reinstate_membership(alice, account, today=day_31)
    assert "Join the pool again" in refused.value.messages[0]
    alice.refresh_from_db()
    assert alice.status == "lapsed"
    assert wallet_for(account).balance_cents == 10_000
    assert balance(Account.Kind.SPONSOR) == -10_000
    assert Batch.objects.get(pk=batch.pk).shortfall_sponsor_cents == 10_000
    call_command("verify_books")


def test_reinstatement_refuses_a_short_wallet_and_a_membership_that_did_not_lapse(lapsing):
    _pool, _batch, alice, bob, carol, _claim = lapsing("sponsor")
    with pytest.raises(ValidationError, match="top up first"):
        services.reinstate_membership(alice, alice.person.account)
    assert Membership.objects.get(pk=alice.pk).status == "lapsed"
    with pytest.raises(ValidationError, match="Only a lapsed membership"):
        services.reinstate_membership(carol, carol.person.account)
    with pytest.raises(ValidationError, match="not yours"):
        services.reinstate_membership(alice, carol.person.account)


def test_reinstate_through_the_api(lapsing, client):
    _pool, _batch, alice, _bob, carol, _claim = lapsing("sponsor")
    url = f"/api/v1/memberships/{alice.pk}/reinstate/"
    client.force_login(carol.person.account)
    assert client.post(url).status_code == 404  # not Carol's
    client.force_login(alice.person.account)
    short = client.post(url)
    assert short.status_code == 400 and "top up first" in str(short.json())
    top_up(alice.person.account, 10_000)
    done = client.post(url)
    assert done.status_code == 200 and done.json()["status"] == "active"
    again = client.post(url)
    assert again.status_code == 400 and "Only a lapsed membership" in str(again.json())
    assert wallet_for(alice.person.account).balance_cents == 0


def test_the_dashboard_offers_reinstatement_while_it_is_possible(lapsing, client):
    _pool, _batch, alice, *_ = lapsing("sponsor")
    account = alice.person.account
    client.force_login(account)
    page = client.get(reverse("dashboard")).content.decode()
    link = reverse("reinstate", args=[alice.pk])
    assert link in page
    confirm = client.get(link).content.decode()
    assert "¥100.00" in confirm
    top_up(account, 10_000)
    response = client.post(link)
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.status == "active"
    assert link not in client.get(reverse("dashboard")).content.decode()
    other = UserFactory()
    client.force_login(other)
    assert client.get(link).status_code == 404


def test_the_reinstatement_window_is_the_pools(lapsing):
    """A pool whose rules give 10 days: day 11 after the lapse is refused, with its number."""
    pool, _batch, alice, *_ = lapsing("sponsor")
    Pool = type(pool)
    Pool.objects.filter(pk=pool.pk).update(reinstate_days=10)
    alice = Membership.objects.get(pk=alice.pk)
    account = alice.person.account
    top_up(account, 10_000)
    assert alice.reinstatable_until == lapse_day(alice) + dt.timedelta(days=10)
    with pytest.raises(ValidationError, match="more than 10 days ago"):
        services.reinstate_membership(
            alice, account, today=lapse_day(alice) + dt.timedelta(days=11)
        )
