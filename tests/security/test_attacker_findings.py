"""What an attacker's review of this session's work found, each now refused (see the issue 15
closing note): the pool's calendar at the join, late objections, NUL and overlong input, the
admin's odd URLs and dates, the person oracle, the web top-up's float."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from claims import services as claim_services
from claims.models import Claim
from members import services as member_services
from members.identity import make_identity_number
from notice import services as notice_services
from notice.models import Objection
from tests.claims.helpers import draft, to_investigated
from tests.factories import ClaimFactory, MembershipFactory, PoolFactory, UserFactory

pytestmark = pytest.mark.django_db
REASON = "The hospital named in the case does not treat this."


def pool_on_another_day():
    """A pool whose today is not UTC's today at this very moment (a day ahead or behind)."""
    zone = "Pacific/Kiritimati" if timezone.now().hour >= 10 else "Pacific/Pago_Pago"
    pool = PoolFactory(time_zone=zone, waiting_days=90)
    assert pool.today() != timezone.now().date()
    return pool


def test_the_join_day_and_the_observation_period_are_the_pools_calendar():
    pool = pool_on_another_day()
    account = UserFactory()
    born = dt.date(1990, 5, 17)
    membership = member_services.enroll(
        account,
        pool,
        details=member_services.PersonDetails(
            relationship="self",
            full_name="Li Hua",
            sex="F",
            birth_date=born,
            identity_number=make_identity_number("330102", born, 3),
            province="Zhejiang",
        ),
        declaration_accepted=True,
        rules_accepted=True,
    )
    assert membership.joined_on == pool.today()
    assert membership.waiting_ends_on == pool.today() + dt.timedelta(days=90)
    the_day_before = claim_services.create_draft(
        account,
        membership,
        condition=pool.conditions.first(),
        cause="accident",
        diagnosis_date=pool.today() - dt.timedelta(days=1),
        hospital="H",
        province="Zhejiang",
    )
    problems = claim_services.submission_problems(the_day_before)
    assert "The diagnosis is from before this membership began." in problems


def test_an_objection_after_the_notice_ended_is_refused():
    claim = ClaimFactory(notice_ends_at=timezone.now() - dt.timedelta(hours=5))
    objector = MembershipFactory().person.account
    with pytest.raises(Exception, match="notice period of this claim has ended"):
        notice_services.file_objection(claim, objector, REASON)
    assert not Objection.objects.exists()


def test_an_objection_is_a_page_not_a_book(client):
    claim = ClaimFactory()
    client.force_login(MembershipFactory().person.account)
    response = client.post(
        f"/api/v1/claims/{claim.pk}/objections/", {"reason": "x" * 2001}, "application/json"
    )
    assert response.status_code == 400 and not Objection.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["/api/v1/notice/?pool=%00", "/api/v1/notice/?condition=%00", "/notice/?pool=%00", "/?q=a%00"],
)
def test_a_nul_character_in_a_query_is_a_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_an_overlong_username_on_a_login_form_is_a_400(client, url):
    response = client.post(url, {"username": "a" * 300, "password": "x"})
    assert response.status_code == 400


def test_the_admin_answers_odd_urls_and_impossible_dates_without_a_500(client):
    investigator = UserFactory(username="inv9", is_staff=True)
    investigator.groups.add(Group.objects.get(name="investigators"))
    client.force_login(investigator)
    assert client.get("/admin/claims/claim/abc/change/").status_code in (302, 404)
    assert client.get("/admin/claims/claim/?status=%00").status_code == 400
    adjudicators = UserFactory(username="adj9", is_staff=True)
    adjudicators.groups.add(Group.objects.get(name="adjudicators"))
    people = {"inv": investigator, "adj": adjudicators}
    claim = to_investigated(draft(), people)
    for day in ("2026-02-30", "2026-13-01", "9999-99-99"):
        response = client.post(
            f"/admin/claims/claim/{claim.pk}/transition/",
            {"action": "end_in_waiting", "note": "note", "first_diagnosed_on": day},
            follow=True,
        )
        assert response.status_code == 200 and "is not a date" in response.content.decode()
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.INVESTIGATED


def test_creating_persons_spends_the_creation_budget(client, monkeypatch):
    """Each new person answers whether an identity number is registered: not a fast oracle."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "create", "2/hour")
    client.force_login(UserFactory())
    statuses = [
        client.post("/api/v1/persons/", {"full_name": "x"}, "application/json").status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]


def test_the_web_top_up_takes_one_cent(client):
    client.force_login(UserFactory())
    response = client.post("/wallet/top-up/", {"amount": "0.01"})
    assert response.status_code == 302
