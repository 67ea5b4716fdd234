"""Rate limits where a stranger can create or guess, no 5xx from malformed input, and no
existence oracle (issue 15: each test fails on the code before it)."""

import datetime as dt
import json

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from claims.models import Claim
from tests.factories import ClaimFactory as PublicClaimFactory
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "correct horse battery staple"


def rate(monkeypatch, scope, value):
    """Every throttle class reads the one rates dict of the settings."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, value)


def post_json(client, url, data, **extra):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(url, body, content_type="application/json", **extra)


def claim_form(membership):
    return {
        "membership": membership.pk,
        "condition": membership.pool.conditions.first().pk,
        "cause": "illness",
        "diagnosis_date": (timezone.localdate() - dt.timedelta(days=10)).isoformat(),
        "hospital": "Hospital",
        "province": "Zhejiang",
        "description": "",
    }


# --- one creation budget for the web and the API -------------------------------------------


def test_the_web_claim_form_spends_the_budget_the_api_used_up(client, monkeypatch):
    rate(monkeypatch, "create", "2/hour")
    membership = MembershipFactory()
    client.force_login(membership.person.account)
    api = [post_json(client, "/api/v1/claims/", {}).status_code for _ in range(3)]
    assert api == [400, 400, 429]

    response = client.post(reverse("claim-new"), claim_form(membership))
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert not Claim.objects.exists()


def test_the_web_claim_form_works_within_the_budget(client, monkeypatch):
    rate(monkeypatch, "create", "2/hour")
    membership = MembershipFactory()
    client.force_login(membership.person.account)
    response = client.post(reverse("claim-new"), claim_form(membership))
    assert response.status_code == 302
    assert Claim.objects.count() == 1
    api = [post_json(client, "/api/v1/claims/", {}).status_code for _ in range(2)]
    assert api == [400, 429]  # the web claim spent one of the two


# --- default API rates -----------------------------------------------------------------------


def test_anonymous_api_requests_are_limited_per_address(client, monkeypatch):
    rate(monkeypatch, "anon", "5/min")
    statuses = [client.get("/api/v1/pools/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = client.get("/api/v1/pools/")
    assert refused.status_code == 429 and "throttled" in refused.json()["detail"]
    assert client.get("/api/v1/pools/", REMOTE_ADDR="10.0.0.2").status_code == 200
    # X-Forwarded-For is not trusted without NUM_PROXIES: a client cannot pick a new address
    assert client.get("/api/v1/pools/", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_the_anonymous_rate_of_the_settings_applies(client):
    statuses = [client.get("/api/v1/pools/").status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120 and statuses[120] == 429


def test_member_api_requests_are_limited_per_member(client, monkeypatch):
    rate(monkeypatch, "user", "3/min")
    client.force_login(MembershipFactory().person.account)
    statuses = [client.get(url).status_code for url in ["/api/v1/claims/"] * 3 + ["/api/v1/pools/"]]
    assert statuses == [200, 200, 200, 429]
    client.force_login(MembershipFactory().person.account)
    assert client.get("/api/v1/claims/").status_code == 200


# --- signup and log-in budgets per address ---------------------------------------------------


def test_signup_is_limited_per_address(client, monkeypatch):
    rate(monkeypatch, "signup", "2/hour")
    form = {"username": "", "email": "x@example.org", "password1": PASSWORD, "password2": PASSWORD}
    for name in ("first", "second"):
        assert client.post(reverse("signup"), {**form, "username": name}).status_code == 302
        client.logout()
    refused = client.post(reverse("signup"), {**form, "username": "third"})
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3600  # the hour's window, what is left of it
    assert not UserFactory._meta.model.objects.filter(username="third").exists()
    other = client.post(reverse("signup"), {**form, "username": "third"}, REMOTE_ADDR="10.0.0.3")
    assert other.status_code == 302


def test_password_spraying_across_usernames_runs_out_of_the_address_budget(client, monkeypatch):
    rate(monkeypatch, "login", "3/hour")
    victim = UserFactory(username="victim")
    victim.set_password(PASSWORD)
    victim.save()
    for name in ("ann", "ben", "cat"):  # one try each: django-axes alone never locks anyone
        response = client.post(reverse("login"), {"username": name, "password": "guess"})
        assert response.status_code == 200
    page = client.post(reverse("login"), {"username": "victim", "password": PASSWORD})
    assert page.status_code == 429
    assert "Too many log-in attempts" in page.content.decode()
    assert 0 < int(page["Retry-After"]) <= 3600
    assert "_auth_user_id" not in client.session
    token = post_json(client, TOKEN_URL, {"username": "victim", "password": PASSWORD})
    assert token.status_code == 429 and "log-in attempts" in token.json()["detail"]
    assert 0 < int(token["Retry-After"]) <= 3600
    assert "token" not in token.json()
    # another address has its own budget
    ok = post_json(
        client, TOKEN_URL, {"username": "victim", "password": PASSWORD}, REMOTE_ADDR="10.0.0.4"
    )
    assert ok.status_code == 200 and ok.json()["token"]


def test_a_locked_account_at_the_token_endpoint_answers_429_with_a_message(client):
    user = UserFactory(username="locked")
    user.set_password(PASSWORD)
    user.save()
    wrong = {"username": "locked", "password": "wrong"}
    statuses = [post_json(client, TOKEN_URL, wrong).status_code for _ in range(5)]
    assert statuses == [400] * 4 + [429]  # the fifth failure locks (AXES_FAILURE_LIMIT)
    response = post_json(client, TOKEN_URL, {"username": "locked", "password": PASSWORD})
    assert response.status_code == 429
    assert "locked" in response.json()["detail"]
    assert response["Retry-After"] == "3600"  # django-axes' cool-off, an hour
    assert "token" not in response.json()


# --- no 5xx from input -----------------------------------------------------------------------


def test_deeply_nested_json_is_a_json_400(client):
    response = post_json(client, TOKEN_URL, "[" * 100_000)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_username_longer_than_the_column_is_refused_before_it_is_recorded(client):
    response = post_json(client, TOKEN_URL, {"username": "x" * 300, "password": "whatever"})
    assert response.status_code == 400
    assert "username" in response.json()["errors"]
    assert not AccessAttempt.objects.exists()


def test_an_oversized_json_body_is_a_json_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_json(client, TOKEN_URL, {"username": "x" * 2000, "password": "p"})
    assert response.status_code == 413
    assert response.json()["detail"] == "Request body too large."


def test_too_large_a_form_body_on_an_api_path_is_json(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(MembershipFactory().person.account)
    response = client.post(
        "/api/v1/claims/", "a=" + "x" * 2000, content_type="application/x-www-form-urlencoded"
    )
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


# --- no existence oracle ---------------------------------------------------------------------


def test_objections_of_a_claim_never_public_answer_like_an_unknown_id(client):
    hidden = PublicClaimFactory(status=Claim.Status.SUBMITTED, notice_ends_at=None)
    unknown = hidden.pk + 1000
    never = client.get(f"/api/v1/claims/{hidden.pk}/objections/")
    missing = client.get(f"/api/v1/claims/{unknown}/objections/")
    assert never.status_code == missing.status_code == 404
    assert never.json() == missing.json()
    client.force_login(MembershipFactory().person.account)
    reason = {"reason": "The hospital named in the case does not treat this."}
    posted = post_json(client, f"/api/v1/claims/{hidden.pk}/objections/", reason)
    assert posted.status_code == 404 and posted.json() == missing.json()
    assert not hidden.objections.exists()
    public = PublicClaimFactory()
    assert client.get(f"/api/v1/claims/{public.pk}/objections/").json() == []


def test_text_with_a_nul_character_is_a_json_400(client):
    client.force_login(MembershipFactory().person.account)
    body = {"person": 1, "pool": "demo\x00", "declaration_accepted": True, "rules_accepted": True}
    response = post_json(client, "/api/v1/memberships/", body)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
