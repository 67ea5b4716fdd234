import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from claims.models import Claim
from notice import services
from notice.models import Juror, JuryVolunteer, Objection, Panel
from tests.factories import ClaimFactory, MembershipFactory, PersonFactory

pytestmark = pytest.mark.django_db
REASON = "This diagnosis date looks inconsistent with the record."


def volunteer(**membership_kwargs):
    m = MembershipFactory(**membership_kwargs)
    JuryVolunteer.objects.create(user=m.person.account, accepted_rules_at=timezone.now())
    return m.person.account


def test_one_objection_per_member():
    claim = ClaimFactory()
    user = MembershipFactory().person.account
    services.file_objection(claim, user, REASON)
    with pytest.raises(ValidationError):
        services.file_objection(claim, user, REASON)
    assert Objection.objects.filter(claim=claim).count() == 1


def test_claimant_cannot_object():
    claim = ClaimFactory()
    with pytest.raises(ValidationError):
        services.file_objection(claim, claim.claimant, REASON)
    assert not Objection.objects.exists()


def test_short_reason_refused():
    claim = ClaimFactory()
    with pytest.raises(ValidationError):
        services.file_objection(claim, MembershipFactory().person.account, "too short")


def test_ineligible_never_drawn_and_seed_reproduces():
    claim = ClaimFactory(status=Claim.Status.PANEL_REVIEW)
    good = {volunteer() for _ in range(12)}
    young = volunteer(
        person=PersonFactory(birth_date=timezone.localdate() - datetime.timedelta(days=365 * 17))
    )
    recent = volunteer(active_since=timezone.localdate() - datetime.timedelta(days=10))
    unaccepted = MembershipFactory().person.account
    JuryVolunteer.objects.create(user=unaccepted)
    claimant_vol = claim.claimant
    JuryVolunteer.objects.create(user=claimant_vol, accepted_rules_at=timezone.now())
    eligible = set(services.eligible_juror_ids(claim))
    assert eligible == {u.pk for u in good}
    assert not {young.pk, recent.pk, unaccepted.pk, claimant_vol.pk} & eligible
    panel = services.draw_panel(claim, seed=12345)
    drawn = sorted(Juror.objects.filter(panel=panel).values_list("user_id", flat=True))
    assert len(drawn) == 9
    assert drawn == services.draw(services.juror_strata(claim), panel.seed, 9)


def test_objectors_and_reviewers_are_never_drawn():
    """Conflict checks (SPEC 11): a party to the dispute does not judge it."""
    objector = volunteer()
    reviewer = volunteer()
    claim = ClaimFactory(status=Claim.Status.PUBLIC_NOTICE)
    Claim.objects.filter(pk=claim.pk).update(investigator=reviewer)
    services.file_objection(claim, objector, REASON)
    claim.refresh_from_db()
    others = {volunteer() for _ in range(9)}
    eligible = set(services.eligible_juror_ids(claim))
    assert eligible == {u.pk for u in others}
    assert not {objector.pk, reviewer.pk} & eligible


@pytest.mark.parametrize(
    "a,r,expected",
    [(5, 4, "approve"), (4, 5, "reject"), (3, 1, None), (3, 3, None), (0, 0, None)],
)
def test_tally(a, r, expected):
    assert services.tally(a, r, min_votes=5) == expected


def test_late_vote_refused():
    claim = ClaimFactory(status=Claim.Status.PANEL_REVIEW)
    [volunteer() for _ in range(9)]
    panel = services.draw_panel(claim, seed=1)
    juror = panel.jurors.first()
    with pytest.raises(ValidationError):
        services.cast_vote(
            panel, juror.user, "approve", "fine", now=panel.deadline + datetime.timedelta(seconds=1)
        )
    services.cast_vote(panel, juror.user, "approve", "fine")
    assert panel.jurors.filter(vote__isnull=False).count() == 1


def test_closing_twice_changes_nothing():
    past = timezone.now() - datetime.timedelta(days=5)
    plain = ClaimFactory(notice_ends_at=past)
    objected = ClaimFactory(notice_ends_at=past)
    future = ClaimFactory()
    before_the_end = past - datetime.timedelta(hours=1)
    services.file_objection(objected, MembershipFactory().person.account, REASON, before_the_end)
    assert services.close_ended_notices() == {"approved": 1, "panel": 1}
    assert services.close_ended_notices() == {"approved": 0, "panel": 0}
    statuses = {c.pk: c.status for c in Claim.objects.all()}
    assert statuses[plain.pk] == "approved"
    assert statuses[objected.pk] == "panel_review"
    assert statuses[future.pk] == "public_notice"
    assert Panel.objects.filter(claim=objected).count() == 1


def _panel_with_votes(approve, reject):
    claim = ClaimFactory(status=Claim.Status.PANEL_REVIEW)
    [volunteer() for _ in range(9)]
    panel = services.draw_panel(claim, seed=7)
    jurors = list(panel.jurors.all())
    for i, juror in enumerate(jurors[: approve + reject]):
        services.cast_vote(panel, juror.user, "approve" if i < approve else "reject", "my reason")
    return claim, panel


@pytest.mark.parametrize(
    "a,r,claim_status,panel_status",
    [
        (5, 4, "approved", "decided"),
        (4, 5, "rejected", "decided"),
        (3, 1, "panel_review", "needs_adjudicator"),
        (3, 3, "panel_review", "needs_adjudicator"),
    ],
)
def test_panel_counting(a, r, claim_status, panel_status):
    claim, panel = _panel_with_votes(a, r)
    services.close_panel(panel, now=panel.deadline + datetime.timedelta(minutes=1))
    services.close_panel(panel, now=panel.deadline + datetime.timedelta(minutes=2))
    claim.refresh_from_db()
    panel.refresh_from_db()
    assert (claim.status, panel.status) == (claim_status, panel_status)
