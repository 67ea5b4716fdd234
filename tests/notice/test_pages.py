"""The public record with its objection form, jury volunteering, the juror's page, the dashboard."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim
from members.models import Membership
from notice import services
from notice.models import JuryVolunteer, Objection, Vote
from tests.factories import ClaimFactory, MembershipFactory, UserFactory

from .test_services import volunteer

pytestmark = pytest.mark.django_db
REASON = "The hospital named in the case does not treat this."


def record_url(claim):
    return reverse("notice-record", args=[claim.pk])


def member():
    return MembershipFactory().person.account


def page_text(response):
    return response.content.decode()


@pytest.fixture
def voting():
    """A claim objected on notice, now in panel review with 9 jurors drawn."""
    claim = ClaimFactory(investigation_report="Confirmed by pathology report.")
    jurors = [volunteer(pool=claim.pool) for _ in range(9)]
    services.file_objection(claim, member(), REASON)
    services.close_ended_notices(now=claim.notice_ends_at + datetime.timedelta(minutes=1))
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PANEL_REVIEW
    return claim, claim.panels.get(), jurors


def test_the_board_links_each_case_to_its_record(client):
    claim = ClaimFactory()
    assert record_url(claim) in page_text(client.get(reverse("notice")))


def test_the_record_is_anonymized_and_shows_the_objections(client):
    claim = ClaimFactory(investigation_report="Confirmed by pathology report.")
    objector = member()
    services.file_objection(claim, objector, REASON)
    html = page_text(client.get(record_url(claim)))
    assert "Confirmed by pathology report." in html and REASON in html
    person = claim.membership.person
    for secret in (person.full_name, person.identity_number, claim.claimant.username):
        assert secret not in html
    assert objector.username not in html
    assert "Sign in to object" in html


@pytest.mark.parametrize("status", ["draft", "submitted", "investigated", "rejected"])
def test_a_claim_never_on_notice_has_no_public_record(client, status):
    claim = ClaimFactory(status=status, notice_ends_at=None)
    assert client.get(record_url(claim)).status_code == 404


def test_a_member_objects_through_the_form(client):
    claim = ClaimFactory()
    client.force_login(member())
    response = client.post(record_url(claim), {"reason": REASON}, follow=True)
    assert response.redirect_chain == [(record_url(claim), 302)]
    assert "Your objection was filed" in page_text(response)
    assert Objection.objects.get(claim=claim).reason == REASON


def test_objecting_needs_signing_in(client):
    claim = ClaimFactory()
    response = client.post(record_url(claim), {"reason": REASON})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Objection.objects.exists()


def _form_errors(response):
    form = response.context["form"]
    return form.non_field_errors() + form.errors.get("reason", [])


@pytest.mark.parametrize(
    "case,expected",
    [
        ("claimant", "own account"),
        ("twice", "already objected"),
        ("not_active", "Only active members"),
        ("not_on_notice", "not on public notice"),
        ("short", "at least 20 characters"),
    ],
)
def test_objection_refusals_are_form_errors(client, case, expected):
    claim = ClaimFactory()
    user = member()
    if case == "claimant":
        user = claim.claimant
    elif case == "twice":
        services.file_objection(claim, user, REASON)
    elif case == "not_active":
        Membership.objects.filter(person__account=user).update(status="suspended")
    elif case == "not_on_notice":
        Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PANEL_REVIEW)
    client.force_login(user)
    reason = "too short" if case == "short" else REASON
    response = client.post(record_url(claim), {"reason": reason})
    assert response.status_code == 200
    errors = _form_errors(response)
    assert any(expected in e for e in errors), errors
    assert expected in page_text(response)
    assert Objection.objects.filter(claim=claim).count() == (1 if case == "twice" else 0)


def test_web_objections_are_rate_limited(client, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "create", "2/hour")
    claim = ClaimFactory()
    client.force_login(member())
    client.post(f"/api/v1/claims/{claim.pk}/objections/", {"reason": "short"})  # the same budget
    client.post(record_url(claim), {"reason": "short"})
    response = client.post(record_url(claim), {"reason": REASON})
    assert response.status_code == 429
    assert "Too many requests" in page_text(response)
    assert not claim.objections.exists()


def test_volunteering_from_the_dashboard(client):
    user = member()
    client.force_login(user)
    dashboard = page_text(client.get(reverse("dashboard")))
    assert reverse("jury-volunteer") in dashboard and "You do not volunteer" in dashboard
    url = reverse("jury-volunteer")
    page = client.get(url)
    assert "The jury rules" in page_text(page) and "at least 30 days" in page_text(page)
    refused = client.post(url, {"action": "volunteer"})
    assert refused.context["form"].errors["accept_rules"]
    assert not JuryVolunteer.objects.filter(user=user).exists()
    client.post(url, {"action": "volunteer", "accept_rules": "on"})
    assert JuryVolunteer.objects.get(user=user).accepted_rules_at is not None
    assert "You volunteer for panels." in page_text(client.get(reverse("dashboard")))
    client.post(url, {"action": "withdraw"})
    assert JuryVolunteer.objects.get(user=user).accepted_rules_at is None


def test_only_the_panels_jurors_see_its_page(client, voting):
    claim, panel, jurors = voting
    url = reverse("panel", args=[panel.pk])
    outsiders = [member(), claim.claimant, UserFactory(is_staff=True, is_superuser=True)]
    outsiders += [u for u in jurors if not panel.jurors.filter(user=u).exists()]
    for outsider in outsiders:
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.force_login(panel.jurors.first().user)
    html = page_text(client.get(url))
    assert "Confirmed by pathology report." in html and REASON in html
    assert claim.membership.person.full_name not in html
    assert 'id="vote-form"' in html


def test_a_juror_is_invited_on_the_dashboard_and_votes(client, voting):
    claim, panel, _jurors = voting
    juror = panel.jurors.first().user
    client.force_login(juror)
    dashboard = page_text(client.get(reverse("dashboard")))
    assert f"You were drawn for the panel on case #{claim.pk}" in dashboard
    url = reverse("panel", args=[panel.pk])
    assert url in dashboard
    missing = client.post(url, {"choice": "approve", "reason": ""})
    assert missing.context["form"].errors["reason"]
    client.post(url, {"choice": "approve", "reason": "The records are consistent."})
    vote = Vote.objects.get(juror__user=juror)
    assert (vote.choice, vote.reason) == ("approve", "The records are consistent.")
    html = page_text(client.get(url))
    assert "You voted" in html and 'id="vote-form"' not in html


def test_a_late_vote_is_refused_with_a_clear_message(client, voting):
    _claim, panel, _jurors = voting
    type(panel).objects.filter(pk=panel.pk).update(
        deadline=timezone.now() - datetime.timedelta(minutes=1)
    )
    client.force_login(panel.jurors.first().user)
    url = reverse("panel", args=[panel.pk])
    assert "Voting on this panel closed" in page_text(client.get(url))
    late = client.post(url, {"choice": "reject", "reason": "Too late but here it is."})
    assert "your vote was not recorded" in page_text(late)
    assert not Vote.objects.exists()


def test_the_record_publishes_counts_and_reasons_never_names(client, voting):
    claim, panel, _jurors = voting
    seats = list(panel.jurors.select_related("user").order_by("pk"))
    services.cast_vote(panel, seats[0].user, "reject", "Reason that should wait.")
    html = page_text(client.get(record_url(claim)))
    assert "Reason that should wait." not in html  # published once voting ends
    for i, seat in enumerate(seats[1:]):
        services.cast_vote(panel, seat.user, "approve", f"Published reason {i}.")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED
    html = page_text(client.get(record_url(claim)))
    assert "Votes: 8 approve, 1 reject, of 9 jurors." in html
    assert "Reason that should wait." in html and "Published reason 7." in html
    assert "Approved" in html
    for seat in seats:
        assert seat.user.username not in html


def test_board_query_count_does_not_grow_with_cases(client, django_assert_num_queries):
    for _ in range(3):
        ClaimFactory()
    with django_assert_num_queries(2):  # count, page
        client.get(reverse("notice"))
    for _ in range(5):
        ClaimFactory()
    with django_assert_num_queries(2):
        client.get(reverse("notice"))


def test_juror_page_query_count(client, voting, django_assert_num_queries, settings):
    claim, panel, _jurors = voting
    client.force_login(panel.jurors.first().user)
    url = reverse("panel", args=[panel.pk])
    # session (in Redis with CACHE_URL), user, the seat with its panel, case and vote, objections
    pinned = 3 if settings.CACHE_URL else 4
    with django_assert_num_queries(pinned):
        client.get(url)
    for _ in range(3):
        Objection.objects.create(claim=claim, member=member(), reason=REASON)
    with django_assert_num_queries(pinned):
        assert client.get(url).status_code == 200
