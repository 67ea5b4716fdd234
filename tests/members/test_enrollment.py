import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ledger.services import balances_match_entries, wallet_for
from members import ages, services
from members.identity import make_identity_number
from members.models import Membership, Person
from pools.models import Pool
from tests.factories import MembershipFactory, PersonFactory, PoolFactory, UserFactory

TODAY = Pool().today()  # the pools' calendar (Asia/Shanghai), in which joining is judged


def details(born, relationship="self", seq=1):
    return services.PersonDetails(
        relationship=relationship,
        full_name="Li Hua",
        sex="F",
        birth_date=born,
        identity_number=make_identity_number("330102", born, seq),
        province="Zhejiang",
    )


def enroll(account, pool, **kwargs):
    kwargs.setdefault("declaration_accepted", True)
    kwargs.setdefault("rules_accepted", True)
    return services.enroll(account, pool, **kwargs)


def years_ago(years, days=0):
    return ages.birthday(TODAY, -years) - dt.timedelta(days=days)


@pytest.mark.django_db
def test_enroll_starts_the_observation_period_with_history():
    pool = PoolFactory(waiting_days=90)
    account = UserFactory()
    membership = enroll(account, pool, details=details(years_ago(30)))
    assert membership.status == Membership.Status.WAITING
    assert membership.waiting_ends_on == TODAY + dt.timedelta(days=90)
    assert membership.status_changes.get().to_status == "waiting"
    assert wallet_for(account).balance_cents == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "born,code,message",
    [
        (TODAY - dt.timedelta(days=29), "too_young", "at least 30 days old"),
        (years_ago(60), "too_old", "up to 59 years old"),
    ],
)
def test_age_refusals(born, code, message):
    with pytest.raises(ValidationError, match=message) as excinfo:
        enroll(UserFactory(), PoolFactory(), details=details(born))
    assert excinfo.value.code == code
    assert not Person.objects.exists()  # nothing half-saved


@pytest.mark.django_db
def test_age_boundaries_are_accepted():
    pool = PoolFactory()
    youngest = enroll(UserFactory(), pool, details=details(TODAY - dt.timedelta(days=30), seq=1))
    oldest = enroll(UserFactory(), pool, details=details(years_ago(60, days=-1), seq=2))  # 59
    for membership in (youngest, oldest):
        membership.refresh_from_db()
        assert membership.pool == pool and membership.status == Membership.Status.WAITING
    assert oldest.person.age_on(TODAY) == 59 and (TODAY - youngest.person.birth_date).days == 30


@pytest.mark.django_db
def test_refusals_for_declaration_rules_duplicates_and_ended_in_waiting():
    pool = PoolFactory()
    account = UserFactory()
    with pytest.raises(ValidationError, match="health declaration"):
        enroll(account, pool, details=details(years_ago(30)), declaration_accepted=False)
    with pytest.raises(ValidationError, match="accept the pool rules"):
        enroll(account, pool, details=details(years_ago(30)), rules_accepted=False)
    membership = enroll(account, pool, details=details(years_ago(30)))
    with pytest.raises(ValidationError, match="already a member"):
        enroll(account, pool, person=membership.person)
    with pytest.raises(ValidationError, match="already registered") as excinfo:
        enroll(UserFactory(), pool, details=details(years_ago(30)))
    assert excinfo.value.code == "duplicate_id"
    Membership.objects.filter(pk=membership.pk).update(
        status="ended_in_waiting", ended_at=timezone.now()
    )
    with pytest.raises(ValidationError, match="may not rejoin"):
        enroll(account, pool, person=membership.person)


@pytest.mark.django_db
def test_invalid_identity_number_is_refused():
    bad = details(years_ago(30))
    bad.identity_number = bad.identity_number[:-1] + (
        "0" if bad.identity_number[-1] != "0" else "1"
    )
    with pytest.raises(ValidationError, match="check digit"):
        enroll(UserFactory(), PoolFactory(), details=bad)


@pytest.mark.django_db
def test_join_page_shows_refusals_as_form_errors(client):
    pool = PoolFactory()
    account = UserFactory()
    client.force_login(account)
    born = years_ago(70)
    response = client.post(
        reverse("join"),
        {
            "pool": pool.pk,
            "relationship": "self",
            "full_name": "Old Wang",
            "sex": "M",
            "birth_date": born.isoformat(),
            "identity_number": make_identity_number("330102", born, 5),
            "province": "Hubei",
            "declaration": "on",
            "rules": "on",
        },
    )
    assert response.status_code == 200
    assert "Too old to join this pool" in response.content.decode()
    assert not Membership.objects.exists()
    ok = client.post(
        reverse("join"),
        {
            "pool": pool.pk,
            "relationship": "self",
            "full_name": "Young Wang",
            "sex": "M",
            "birth_date": years_ago(25).isoformat(),
            "identity_number": make_identity_number("330102", years_ago(25), 6),
            "province": "Hubei",
            "declaration": "on",
            "rules": "on",
        },
    )
    assert ok.status_code == 302 and Membership.objects.count() == 1


@pytest.mark.django_db
def test_identity_number_is_masked_everywhere(client, admin_client):
    person = PersonFactory()
    assert person.masked_identity_number == "*" * 14 + person.identity_number[-4:]
    page = admin_client.get(reverse("admin:members_person_change", args=[person.pk]))
    assert person.identity_number not in page.content.decode()
    client.force_login(person.account)
    api = client.get("/api/v1/persons/").content.decode()
    assert person.identity_number not in api and person.masked_identity_number in api


@pytest.mark.django_db
def test_withdraw_needs_confirmation_and_records_history(client):
    membership = MembershipFactory()
    client.force_login(membership.person.account)
    url = reverse("withdraw", args=[membership.pk])
    assert b"Yes, withdraw" in client.get(url).content
    membership.refresh_from_db()
    assert membership.status == "active"
    client.post(url)
    membership.refresh_from_db()
    assert membership.status == "withdrawn"
    assert membership.status_changes.last().cause == "withdrawn by the member"


@pytest.mark.django_db
def test_top_up_records_a_sandbox_payment_and_balances(client):
    account = UserFactory()
    client.force_login(account)
    page = client.get(reverse("top-up")).content.decode()
    assert "Sandbox payment provider" in page
    client.post(reverse("top-up"), {"amount": "12.34"})
    assert wallet_for(account).balance_cents == 1234
    assert balances_match_entries()
    bad = client.post(reverse("top-up"), {"amount": "-5"})
    assert bad.status_code == 200 and wallet_for(account).balance_cents == 1234


@pytest.mark.django_db
def test_api_ownership_between_two_members(client):
    alice = MembershipFactory()
    bob = MembershipFactory()
    client.force_login(alice.person.account)
    assert [m["id"] for m in client.get("/api/v1/memberships/").json()["results"]] == [alice.pk]
    assert client.get(f"/api/v1/memberships/{bob.pk}/").status_code == 404
    assert client.get(f"/api/v1/persons/{bob.person_id}/").status_code == 404
    assert client.post(f"/api/v1/memberships/{bob.pk}/withdraw/").status_code == 404
    refused = client.post(
        "/api/v1/memberships/",
        {
            "person": bob.person_id,
            "pool": bob.pool.slug,
            "declaration_accepted": True,
            "rules_accepted": True,
        },
        content_type="application/json",
    )
    assert refused.status_code == 400 and "detail" in refused.json()
    wallet = client.post("/api/v1/wallet/", {"amount_cents": 500}, content_type="application/json")
    assert wallet.json() == {"balance_cents": 500}


@pytest.mark.django_db
def test_api_enroll_refusal_is_json_with_a_message(client):
    account = UserFactory()
    pool = PoolFactory()
    person = PersonFactory(account=account, birth_date=years_ago(65))
    client.force_login(account)
    response = client.post(
        "/api/v1/memberships/",
        {
            "person": person.pk,
            "pool": pool.slug,
            "declaration_accepted": True,
            "rules_accepted": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Too old" in response.json()["detail"]
