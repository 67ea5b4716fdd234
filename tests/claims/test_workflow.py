import datetime as dt
import threading

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from claims import workflow
from claims.models import Claim
from tests.claims.helpers import draft, staff, to_investigated
from tests.factories import ConditionFactory, MembershipFactory, PoolFactory


def test_full_path_to_public_notice_fixes_the_payout(people):
    claim = to_investigated(draft(), people)
    claim = workflow.perform(claim, "approve", user=people["adj"])
    assert claim.status == Claim.Status.PUBLIC_NOTICE
    assert claim.payout_cents == 30_000_000  # born 1990: under 40
    assert claim.notice_ends_at > timezone.now()
    assert [e.action for e in claim.events.all()] == ["submit", "assign", "report", "approve"]


@pytest.mark.parametrize(
    "action,who",
    [("assign", "adj"), ("approve", "inv"), ("submit", "inv"), ("report", "inv2")],
)
def test_transitions_refused_by_role(people, action, who):
    claim = draft()
    if action != "submit":
        claim = workflow.perform(claim, "submit", user=claim.claimant)
    if action in ("report", "approve"):
        claim = workflow.perform(claim, "assign", user=people["inv"])
    if action == "approve":
        claim = workflow.perform(claim, "report", user=people["inv"], note="ok")
    with pytest.raises(PermissionDenied):
        workflow.perform(claim, action, user=people[who], note="note")


def test_four_eyes_investigator_cannot_decide(people):
    both = staff("both", "investigators")
    both.groups.add(Group.objects.get(name="adjudicators"))
    claim = draft()
    claim = workflow.perform(claim, "submit", user=claim.claimant)
    claim = workflow.perform(claim, "assign", user=both)
    claim = workflow.perform(claim, "report", user=both, note="ok")
    with pytest.raises(PermissionDenied, match="Four eyes"):
        workflow.perform(claim, "approve", user=both)
    assert "approve" not in workflow.available_actions(both, claim)


def test_staff_never_work_on_their_own_claim(people):
    membership = MembershipFactory(person__account=people["inv"])
    claim = draft(membership)
    claim = workflow.perform(claim, "submit", user=people["inv"])
    with pytest.raises(PermissionDenied, match="own account"):
        workflow.perform(claim, "assign", user=people["inv"])


def test_reject_needs_a_note_and_withdraw_is_for_the_claimant(people):
    claim = to_investigated(draft(), people)
    with pytest.raises(ValidationError, match="note"):
        workflow.perform(claim, "reject", user=people["adj"], note="")
    other = draft()
    other = workflow.perform(other, "submit", user=other.claimant)
    with pytest.raises(PermissionDenied):
        workflow.perform(other, "withdraw", user=people["inv"])
    assert workflow.perform(other, "withdraw", user=other.claimant).status == "withdrawn"


def test_submit_checks_say_why(people):
    pool = PoolFactory(waiting_days=90)
    recent = MembershipFactory(pool=pool, joined_at=timezone.now() - dt.timedelta(days=30))
    with pytest.raises(ValidationError, match="observation period"):
        workflow.perform(draft(recent, days_ago=5), "submit", user=recent.person.account)
    accident = draft(
        MembershipFactory(pool=pool, joined_at=timezone.now() - dt.timedelta(days=30)),
        cause="accident",
        days_ago=5,
    )
    assert workflow.perform(accident, "submit", user=accident.claimant).status == "submitted"
    uncovered = draft(condition=ConditionFactory())
    with pytest.raises(ValidationError, match="not covered by the pool"):
        workflow.perform(uncovered, "submit", user=uncovered.claimant)
    first = draft()
    workflow.perform(first, "submit", user=first.claimant)
    second = draft(first.membership)
    with pytest.raises(ValidationError, match="already has an open or paid claim"):
        workflow.perform(second, "submit", user=second.claimant)


def test_waiting_boundary_day_is_covered(people):
    pool = PoolFactory(waiting_days=90)
    joined = timezone.now() - dt.timedelta(days=90)
    membership = MembershipFactory(pool=pool, joined_at=joined)
    on_the_day = draft(
        membership, days_ago=(timezone.localdate() - membership.waiting_ends_on).days
    )
    assert workflow.perform(on_the_day, "submit", user=on_the_day.claimant).status == "submitted"


def test_two_concurrent_approvals_give_exactly_one(transactional_db, people):
    claim = to_investigated(draft(), people)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait()
            workflow.perform(Claim.objects.get(pk=claim.pk), "approve", user=user)
            outcomes.append("approved")
        except ValidationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(people[n],)) for n in ("adj", "adj2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_decided", "approved"]
    assert Claim.objects.get(pk=claim.pk).events.filter(action="approve").count() == 1
