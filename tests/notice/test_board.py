import pytest
from django.urls import reverse

from claims.anonymized import age_band
from tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def test_age_bands():
    """One rule for the notice board, the reports and the statements (there were two: the
    reports said "10–19" of a 15-year-old whom the board called "0-17")."""
    got = [age_band(a) for a in (0, 5, 15, 17, 18, 19, 20, 25, 35, 59, 60, 70)]
    assert got == [
        "0-17",
        "0-17",
        "0-17",
        "0-17",
        "18-19",
        "18-19",
        "20-29",
        "20-29",
        "30-39",
        "50-59",
        "60+",
        "60+",
    ]


def test_board_and_api_are_anonymized(client):
    claim = ClaimFactory(investigation_report="Confirmed by pathology report.")
    person = claim.membership.person
    secrets_ = [person.full_name, person.identity_number, claim.claimant.username, "scan.pdf"]
    page = client.get(reverse("notice"))
    api = client.get("/api/v1/notice/")
    assert page.status_code == 200 and api.status_code == 200
    html, payload = page.content.decode(), api.content.decode()
    assert "Confirmed by pathology report." in html
    body = api.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [r["id"] for r in rows] == [claim.pk]
    for s in secrets_:
        assert s not in html
        assert s not in payload


def test_board_filters_by_pool(client):
    a = ClaimFactory(investigation_report="alpha-case-summary")
    ClaimFactory(investigation_report="beta-case-summary")
    html = client.get(reverse("notice"), {"pool": a.pool.slug}).content.decode()
    assert "alpha-case-summary" in html and "beta-case-summary" not in html


JSON = "application/json"


def test_objection_api_one_per_member_and_claimant_refused(client):
    from tests.factories import MembershipFactory

    claim = ClaimFactory()
    member = MembershipFactory().person.account
    url = f"/api/v1/claims/{claim.pk}/objections/"
    reason = "The hospital named in the case does not treat this."
    client.force_login(member)
    assert client.post(url, {"reason": reason}, content_type=JSON).status_code == 201
    second = client.post(url, {"reason": reason}, content_type=JSON)
    assert second.status_code == 400 and "detail" in second.json()
    client.force_login(claim.claimant)
    assert client.post(url, {"reason": reason}, content_type=JSON).status_code == 400
    listed = client.get(url).json()
    assert [o["reason"] for o in listed] == [reason]
    assert member.username not in str(listed)
