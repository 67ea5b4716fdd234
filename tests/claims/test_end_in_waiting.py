"""An illness an investigator confirms was first diagnosed in the observation period (SPEC 3)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from apportionment import publishing
from apportionment.models import Batch, Charge
from claims import workflow
from claims.models import Claim
from ledger.services import balances_match_entries, unbalanced_transactions, wallet_for
from members.models import Membership
from members.services import check_can_join
from tests.apportionment.helpers import approved_claim, collect, run_all_chunks, top_up
from tests.claims.helpers import draft
from tests.factories import MembershipFactory, PoolFactory


@pytest.fixture
def member_with_charges(db):
    """Alice joined 120 days ago; she paid 200 of a collected batch and owes 100 of another."""
    pool = PoolFactory(fee_rate_bp=0, annual_cap_cents=10**9, waiting_days=90)
    alice = MembershipFactory(pool=pool, joined_at=timezone.now() - dt.timedelta(days=120))
    top_up(alice.person.account, 300)
    first = approved_claim(pool, 400)
    top_up(first.claimant, 200)
    collect(run_all_chunks(publishing.start_batch(pool)))
    approved_claim(pool, 200)  # alice and this claimant: 100 each, published, not collected
    run_all_chunks(publishing.start_batch(pool))
    assert wallet_for(alice.person.account).balance_cents == 100
    return alice


def investigating(claim, people):  # noqa: F811
    claim = workflow.perform(claim, "submit", user=claim.claimant)
    return workflow.perform(claim, "assign", user=people["inv"])


def test_confirmed_date_ends_the_membership_and_refunds_its_shares(
    member_with_charges,
    people,  # noqa: F811
    client,
):
    alice = member_with_charges
    account = alice.person.account
    claim = investigating(draft(alice, days_ago=5), people)
    first_diagnosed = alice.joined_on + dt.timedelta(days=30)

    claim = workflow.perform(
        claim,
        "end_in_waiting",
        user=people["inv"],
        note="Hospital records show a diagnosis in month one.",
        first_diagnosed_on=first_diagnosed,
    )

    assert claim.status == Claim.Status.REJECTED
    assert claim.first_diagnosed_on == first_diagnosed
    alice.refresh_from_db()
    assert alice.status == Membership.Status.ENDED_IN_WAITING
    change = alice.status_changes.last()
    assert change.to_status == "ended_in_waiting" and change.actor == people["inv"]
    assert str(first_diagnosed) in change.cause
    # the 200 she paid comes back; the 100 she owed is settled by the sponsor
    assert wallet_for(account).balance_cents == 300
    assert Charge.objects.filter(membership=alice).settled().count() == 2
    # collecting the second batch takes nothing more from her wallet
    collect(Batch.objects.get(status=Batch.Status.PUBLISHED))
    assert wallet_for(account).balance_cents == 300
    assert not Charge.objects.filter(membership=alice, outstanding=True).exists()
    assert not unbalanced_transactions().exists() and balances_match_entries()
    with pytest.raises(ValidationError, match="observation period"):
        check_can_join(alice.person, alice.pool, timezone.localdate())

    client.force_login(account)
    page = client.get(reverse("claim-detail", args=[claim.pk])).content.decode()
    assert "refunded to your wallet" in page and "Hospital records" in page


def test_date_outside_the_observation_period_or_an_accident_is_refused(
    member_with_charges,
    people,  # noqa: F811
):
    alice = member_with_charges
    claim = investigating(draft(alice, days_ago=5), people)
    with pytest.raises(ValidationError, match="not in this membership's observation period"):
        workflow.perform(
            claim,
            "end_in_waiting",
            user=people["inv"],
            note="note",
            first_diagnosed_on=alice.waiting_ends_on,
        )
    with pytest.raises(ValidationError, match="first diagnosed"):
        workflow.perform(claim, "end_in_waiting", user=people["inv"], note="note")
    with pytest.raises(PermissionDenied):
        workflow.perform(
            claim,
            "end_in_waiting",
            user=people["adj"],
            note="note",
            first_diagnosed_on=alice.joined_on,
        )
    accident = investigating(draft(MembershipFactory(), cause="accident"), people)
    with pytest.raises(ValidationError, match="Accidents"):
        workflow.perform(
            accident,
            "end_in_waiting",
            user=people["inv"],
            note="note",
            first_diagnosed_on=accident.membership.joined_on,
        )
    alice.refresh_from_db()
    claim.refresh_from_db()
    assert alice.status == Membership.Status.ACTIVE and claim.status == Claim.Status.INVESTIGATING
    assert wallet_for(alice.person.account).balance_cents == 100


def test_admin_button_asks_for_the_date(member_with_charges, people, client):  # noqa: F811
    alice = member_with_charges
    claim = investigating(draft(alice, days_ago=5), people)
    client.force_login(people["inv"])
    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert 'name="first_diagnosed_on"' in page
    client.post(
        reverse("admin:claims_claim_transition", args=[claim.pk]),
        {
            "action": "end_in_waiting",
            "note": "Records from the first month.",
            "first_diagnosed_on": str(alice.joined_on + dt.timedelta(days=1)),
        },
    )
    alice.refresh_from_db()
    assert alice.status == Membership.Status.ENDED_IN_WAITING
