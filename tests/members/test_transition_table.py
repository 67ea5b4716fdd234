"""The membership transition table (members.transitions), checked from the table itself: for
every transition and every status, each entry point moves exactly the memberships the table
allows, by exactly the actor it names, and records each move."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from members.bulk import bulk_change_status
from members.models import Membership, MembershipStatusChange
from members.services import change_membership_status
from members.transitions import INVESTIGATOR, MEMBER, SYSTEM, TRANSITIONS
from tests.factories import MembershipFactory, PersonFactory, PoolFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Membership.Status


def one_of_each_status(account=None):
    """A membership in every status, of one person (a pool each)."""
    person = PersonFactory(account=account) if account else PersonFactory()
    return {status: MembershipFactory(person=person, status=status) for status in S.values}


def investigator():
    user = UserFactory(username="inv", is_staff=True)
    user.groups.add(Group.objects.get(name="investigators"))
    return user


@pytest.mark.parametrize(
    "name", sorted(n for n, rule in TRANSITIONS.items() if rule.actor == SYSTEM)
)
def test_a_system_transition_moves_exactly_its_sources_set_based(name):
    rule = TRANSITIONS[name]
    memberships = one_of_each_status()
    person_id = next(iter(memberships.values())).person_id
    moved = bulk_change_status(
        Membership.objects.filter(person_id=person_id), transition=name, cause="test"
    )
    assert moved == len(rule.sources)
    for status, membership in memberships.items():
        membership.refresh_from_db()
        if status in rule.sources:
            assert membership.status == rule.target
            change = membership.status_changes.get()
            assert (change.from_status, change.to_status, change.actor) == (
                status,
                rule.target,
                None,
            )
        else:
            assert membership.status == status, f"{name} moved a {status} membership"
            assert not membership.status_changes.exists()


@pytest.mark.parametrize(
    "name", sorted(n for n, rule in TRANSITIONS.items() if rule.actor == SYSTEM)
)
def test_no_person_makes_a_system_transition(name):
    membership = MembershipFactory(status=TRANSITIONS[name].sources[0])
    for actor in (membership.person.account, investigator(), None):
        with pytest.raises(PermissionDenied):
            change_membership_status(membership, name, "test", actor)
    membership.refresh_from_db()
    assert membership.status == TRANSITIONS[name].sources[0]


@pytest.mark.parametrize(
    "name", sorted(n for n, rule in TRANSITIONS.items() if rule.actor != SYSTEM)
)
def test_a_persons_transition_is_theirs_alone_and_only_from_its_sources(name):
    rule = TRANSITIONS[name]
    with pytest.raises(PermissionDenied):
        bulk_change_status(Membership.objects.all(), transition=name, cause="test")
    account = UserFactory()
    memberships = one_of_each_status(account)
    allowed = account if rule.actor == MEMBER else investigator()
    strangers = [UserFactory(), None] + ([investigator()] if rule.actor == MEMBER else [account])
    assert rule.actor in (MEMBER, INVESTIGATOR)
    for status, membership in memberships.items():
        for stranger in strangers:
            with pytest.raises(PermissionDenied):
                change_membership_status(membership, name, "test", stranger)
        if status in rule.sources:
            moved = change_membership_status(membership, name, "test", allowed)
            assert moved.status == rule.target
            assert moved.status_changes.get().actor == allowed
        else:
            with pytest.raises(ValidationError):
                change_membership_status(membership, name, "test", allowed)
            membership.refresh_from_db()
            assert membership.status == status
    assert MembershipStatusChange.objects.count() == len(rule.sources)


def test_a_suspended_membership_whose_claim_is_paid_is_paid_out():
    """pay_out from `suspended` is in the table (it used to be written around it)."""
    membership = MembershipFactory(status=S.SUSPENDED, pool=PoolFactory())
    bulk_change_status(
        Membership.objects.filter(pk=membership.pk), transition="pay_out", cause="claim paid out"
    )
    membership.refresh_from_db()
    assert membership.status == S.PAID_OUT and membership.ended_at is not None
