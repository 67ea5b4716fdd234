"""Creating objections and claims is rate-limited per user ('create' scope); reading is not."""

import pytest
from rest_framework.throttling import ScopedRateThrottle

from tests.factories import ClaimFactory, MembershipFactory

pytestmark = pytest.mark.django_db
REASON = "The hospital named in the case does not treat this."
JSON = "application/json"


@pytest.fixture(autouse=True)
def two_per_hour(monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "create", "2/hour")


def test_objection_api_is_throttled_per_user_and_reading_is_not(client):
    url = f"/api/v1/claims/{ClaimFactory().pk}/objections/"
    client.force_login(MembershipFactory().person.account)
    statuses = [client.post(url, {"reason": "short"}, content_type=JSON) for _ in range(3)]
    assert [response.status_code for response in statuses] == [400, 400, 429]
    assert "detail" in client.post(url, {"reason": REASON}, content_type=JSON).json()
    assert client.get(url).status_code == 200
    client.force_login(MembershipFactory().person.account)  # another member has their own budget
    assert client.post(url, {"reason": REASON}, content_type=JSON).status_code == 201


def test_claim_creation_api_is_throttled(client):
    client.force_login(MembershipFactory().person.account)
    statuses = [client.post("/api/v1/claims/", {}, content_type=JSON).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    assert client.get("/api/v1/claims/").status_code == 200
