"""Panel rules: stratified draw, invitations, volunteering, closing and adjudication."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims import notifications
from claims.models import Claim, ClaimEvent, EvidenceRecord, Notification
from notice import services
from notice.models import JuryVolunteer, Panel
from tests.claims.helpers import staff
from tests.factories import ClaimFactory, MembershipFactory, PersonFactory

from .test_services import volunteer

pytestmark = pytest.mark.django_db


def panel_claim(**kwargs):
    return ClaimFactory(status=Claim.Status.PANEL_REVIEW, **kwargs)


def seats(panel):
    return sorted(panel.jurors.values_list("user_id", flat=True))


def test_the_claims_pool_fills_the_panel_first():
    claim = panel_claim()
    same_pool = {volunteer(pool=claim.pool).pk for _ in range(4)}
    others = {volunteer().pk for _ in range(10)}
    strata = services.juror_strata(claim)
    assert strata == (sorted(same_pool), sorted(others))

    panel = services.draw_panel(claim, seed=99)
    drawn = set(seats(panel))
    assert same_pool <= drawn  # every volunteer of the pool sits
    assert len(drawn - same_pool) == 5 and drawn - same_pool <= others


def test_a_pool_with_enough_volunteers_judges_alone():
    claim = panel_claim()
    same_pool = {volunteer(pool=claim.pool).pk for _ in range(11)}
    for _ in range(5):
        volunteer()
    drawn = set(seats(services.draw_panel(claim, seed=3)))
    assert len(drawn) == 9 and drawn <= same_pool


def test_the_stratified_draw_reproduces_from_the_stored_seed():
    claim = panel_claim()
    [volunteer(pool=claim.pool) for _ in range(6)]
    [volunteer() for _ in range(8)]
    panel = services.draw_panel(claim)
    strata = services.juror_strata(claim, panel.drawn_at.date())
    assert seats(panel) == services.draw(strata, panel.seed, 9)
    assert services.draw(strata, panel.seed, 9) == services.draw(strata, panel.seed, 9)
    # Another seed draws other jurors (one other seed may, rarely, draw the same nine).
    assert any(services.draw(strata, panel.seed + k, 9) != seats(panel) for k in range(1, 6))
    record = EvidenceRecord.objects.filter(kind="panel_draw").last()
    assert record.payload["seed"] == panel.seed
    assert record.payload["jurors"] == seats(panel)
    assert record.payload["candidates"] == [6, 8]


def test_a_family_members_membership_does_not_make_the_account_a_juror():
    claim = panel_claim()
    parent = PersonFactory()
    JuryVolunteer.objects.create(user=parent.account, accepted_rules_at=timezone.now())
    MembershipFactory(
        person=PersonFactory(account=parent.account, relationship="child"), pool=claim.pool
    )
    assert services.eligible_juror_ids(claim) == []


def test_a_panel_is_drawn_only_once_and_only_in_panel_review():
    with pytest.raises(ValidationError):
        services.draw_panel(ClaimFactory())  # on public notice
    claim = panel_claim()
    services.draw_panel(claim, seed=1)
    with pytest.raises(ValidationError):
        services.draw_panel(claim, seed=2)


def test_jurors_are_invited_in_app_and_by_email_after_commit(
    django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    # Run the email task in this process as it is handed over (the real worker and broker path
    # is tested in tests/claims/test_notifications.py and tests/faults/test_redis_down.py).
    monkeypatch.setattr(
        notifications.email_notification,
        "apply_async",
        lambda args, **options: notifications.email_notification(*args),
    )
    claim = panel_claim()
    jurors = [
        volunteer(pool=claim.pool, person__account__email=f"juror{i}@example.org") for i in range(9)
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        panel = services.draw_panel(claim, seed=5)
    emails = [c for c in callbacks if c.__module__ == "claims.notifications"]
    assert len(emails) == 9  # the other callbacks bump cached pages (mutualaid.pagecache)
    notes = Notification.objects.filter(recipient__in=jurors)
    assert notes.count() == 9
    assert all(f"case #{claim.pk}" in n.text and n.claim_id is None for n in notes)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in jurors)
    assert all(f"case #{claim.pk}" in m.body for m in mailoutbox)
    assert str(panel.deadline.year) in notes.first().text


def test_volunteering_needs_the_rules_and_withdrawing_ends_draws():
    user = MembershipFactory().person.account
    claim = panel_claim()
    with pytest.raises(ValidationError):
        services.volunteer_for_panels(user, rules_accepted=False)
    first = services.volunteer_for_panels(user, rules_accepted=True).accepted_rules_at
    assert services.volunteer_for_panels(user, rules_accepted=True).accepted_rules_at == first
    assert services.eligible_juror_ids(claim) == [user.pk]
    services.withdraw_from_panels(user)
    services.withdraw_from_panels(user)
    assert services.eligible_juror_ids(claim) == []


def _voting_panel(jurors=9):
    claim = panel_claim()
    [volunteer(pool=claim.pool) for _ in range(jurors)]
    panel = services.draw_panel(claim, seed=11)
    return claim, panel, [j.user for j in panel.jurors.order_by("pk")]


def test_the_last_vote_decides_at_once():
    claim, panel, users = _voting_panel()
    for i, user in enumerate(users):
        services.cast_vote(panel, user, "reject" if i < 5 else "approve", f"reason {i}")
    claim.refresh_from_db()
    panel.refresh_from_db()
    assert (panel.status, panel.outcome, claim.status) == ("decided", "reject", "rejected")


def test_late_vote_is_refused_with_the_deadline_in_the_message():
    _claim, panel, users = _voting_panel(jurors=5)
    late = panel.deadline + datetime.timedelta(minutes=1)
    with pytest.raises(ValidationError) as refused:
        services.cast_vote(panel, users[0], "approve", "a reason", now=late)
    assert "closed" in refused.value.messages[0]
    assert f"{panel.deadline:%Y-%m-%d}" in refused.value.messages[0]


def test_closing_ended_panels_twice_changes_nothing():
    claim, panel, users = _voting_panel()
    for user in users[:5]:
        services.cast_vote(panel, user, "approve", "a reason")
    later = panel.deadline + datetime.timedelta(hours=1)
    assert services.close_ended_panels(now=panel.deadline) == {"closed": 0}
    assert services.close_ended_panels(now=later) == {"closed": 1}
    assert services.close_ended_panels(now=later) == {"closed": 0}
    claim.refresh_from_db()
    assert claim.status == "approved"


@pytest.fixture
def undecided():
    claim, panel, users = _voting_panel()
    for choice, user in zip(["approve", "approve", "reject"], users, strict=False):
        services.cast_vote(panel, user, choice, "a reason")
    services.close_ended_panels(now=panel.deadline + datetime.timedelta(minutes=1))
    panel.refresh_from_db()
    assert panel.status == Panel.Status.NEEDS_ADJUDICATOR
    return claim, panel


def test_an_adjudicator_decides_a_panel_with_too_few_votes(undecided):
    claim, panel = undecided
    adjudicator = staff("adj", "adjudicators")
    with pytest.raises(ValidationError):
        services.adjudicate_panel(panel, "reject", adjudicator, note="")
    services.adjudicate_panel(panel, "reject", adjudicator, note="Hospital records disagree.")
    claim.refresh_from_db()
    panel.refresh_from_db()
    assert (claim.status, panel.status, panel.outcome) == ("rejected", "decided", "reject")
    event = ClaimEvent.objects.filter(claim=claim).last()
    assert (event.action, event.actor, event.note) == (
        "decide_reject",
        adjudicator,
        "Hospital records disagree.",
    )
    with pytest.raises(ValidationError):  # decided: nothing left to adjudicate
        services.adjudicate_panel(panel, "approve", adjudicator, note="again")


def test_only_an_adjudicator_other_than_the_investigator_decides(undecided):
    claim, panel = undecided
    investigator = staff("inv", "investigators")
    with pytest.raises(PermissionDenied):
        services.adjudicate_panel(panel, "approve", investigator, note="fine")
    both = staff("both", "adjudicators")
    Claim.objects.filter(pk=claim.pk).update(investigator=both)
    with pytest.raises(PermissionDenied):
        services.adjudicate_panel(panel, "approve", both, note="fine")
    with pytest.raises(PermissionDenied):
        services.adjudicate_panel(panel, "approve", claim.claimant, note="fine")
    panel.refresh_from_db()
    assert panel.status == Panel.Status.NEEDS_ADJUDICATOR
