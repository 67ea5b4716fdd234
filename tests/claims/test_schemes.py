"""A sponsored scheme (SPEC 11): free cover of every participant for one event, its claims
reviewed like any other and paid by the sponsor, never apportioned."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from apportionment import books, publishing
from apportionment.models import Batch, Charge
from claims import services, workflow
from claims.models import Claim, SponsoredScheme
from ledger.models import Account
from members.models import Membership
from tests.apportionment.helpers import (
    approved_claim,
    balance,
    collect,
    family,
    run_all_chunks,
    top_up,
)
from tests.claims.helpers import staff
from tests.factories import ConditionFactory, PoolFactory

PAYOUT = 10_000_00


def scheme_for(pool, **fields):
    today = pool.today()
    return SponsoredScheme.objects.create(
        pool=pool,
        event="Novel coronavirus pneumonia",
        event_zh="新冠肺炎",
        starts_on=fields.pop("starts_on", today - dt.timedelta(days=30)),
        ends_on=fields.pop("ends_on", today + dt.timedelta(days=30)),
        payout_cents=PAYOUT,
        sponsor="The platform",
        **fields,
    )


def file(membership, scheme, days_ago=3):
    return services.file_claim(
        membership.person.account,
        membership,
        submit=True,
        scheme=scheme,
        condition=ConditionFactory(),  # the event, not one of the pool's conditions
        cause=Claim.Cause.ILLNESS,
        diagnosis_date=membership.pool.today() - dt.timedelta(days=days_ago),
        hospital="Wuhan Jinyintan Hospital",
        province="Hubei",
    )


def through_review(claim, people):
    claim = workflow.perform(claim, "assign", user=people["inv"])
    claim = workflow.perform(claim, "report", user=people["inv"], note="Confirmed by records.")
    claim = workflow.perform(claim, "approve", user=people["adj"])  # public notice
    assert claim.status == Claim.Status.PUBLIC_NOTICE
    return workflow.run_system(claim, "close_notice")


@pytest.mark.django_db
def test_a_sponsored_claim_is_paid_by_the_sponsor_and_charged_to_no_member(people, client):
    pool = PoolFactory(annual_cap_cents=10**9)
    account, (holder, child) = family(pool, 2)
    others = [family(pool, 1)[1][0] for _ in range(3)]
    top_up(account, 100_000_00)
    scheme = scheme_for(pool)
    # Covered for free from the first day: a member still in the observation period too.
    Membership.objects.filter(pk=child.pk).update(
        status=Membership.Status.WAITING, waiting_ends_on=pool.today() + dt.timedelta(days=30)
    )
    child.refresh_from_db()
    claim = file(child, scheme)
    assert claim.scheme == scheme and claim.status == Claim.Status.SUBMITTED
    claim = through_review(claim, people)
    assert claim.payout_cents == PAYOUT  # the scheme's fixed payout
    regular = approved_claim(pool, 20_000_00, membership=others[0])

    batch = run_all_chunks(publishing.start_batch(pool))
    assert batch.status == Batch.Status.PUBLISHED
    assert batch.payouts_cents == regular.payout_cents  # P leaves the scheme's claim out
    charged = Charge.objects.of_batch(batch.pk)
    assert sum(charged.values_list("amount_cents", flat=True)) == batch.amount_cents
    assert batch.amount_cents == regular.payout_cents + batch.fee_cents
    assert list(batch.scheme_payouts.values_list("claim_id", "payout_cents")) == [
        (claim.pk, PAYOUT)
    ]
    sponsor = balance(Account.Kind.SPONSOR)
    collect(batch)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PAID_OUT
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    assert balance(Account.Kind.SPONSOR) == sponsor - PAYOUT
    owed = sum(charged.filter(account=account).values_list("amount_cents", flat=True))
    wallet = Account.objects.get(kind="wallet", owner=account).balance_cents
    assert wallet == 100_000_00 - owed + PAYOUT
    child.refresh_from_db()
    assert child.status == Membership.Status.WAITING  # the scheme's payout ends no membership
    assert books.check_books()[0] == []

    # The report lists it apart from the cases the members paid for.
    page = client.get(f"/reports/{batch.pk}/").content.decode()
    paid_by_members, sponsored = page.split('id="sponsored-cases"')
    assert f"#{regular.pk}<" in paid_by_members and f"#{claim.pk}<" not in paid_by_members
    assert f"#{claim.pk}<" in sponsored


@pytest.mark.django_db
def test_a_scheme_covers_only_its_period_and_one_claim_a_member(people):
    pool = PoolFactory()
    _account, (member,) = family(pool, 1)
    scheme = scheme_for(pool, ends_on=pool.today() - dt.timedelta(days=10))
    with pytest.raises(ValidationError, match="covers diagnoses from"):
        file(member, scheme, days_ago=3)
    other_pool_scheme = scheme_for(PoolFactory())
    with pytest.raises(ValidationError, match="another pool"):
        file(member, other_pool_scheme, days_ago=12)
    first = file(member, scheme, days_ago=12)
    with pytest.raises(ValidationError, match="already has an open or paid claim"):
        file(member, scheme, days_ago=11)
    # A scheme's claim does not stand in the way of the pool's own cover.
    regular = services.file_claim(
        member.person.account,
        member,
        submit=True,
        condition=pool.conditions.first(),
        cause=Claim.Cause.ACCIDENT,
        diagnosis_date=pool.today() - dt.timedelta(days=2),
        hospital="Hospital",
        province="Zhejiang",
    )
    assert {first.status, regular.status} == {Claim.Status.SUBMITTED}
    assert Claim.objects.filter(scheme=scheme).count() == 1


@pytest.mark.django_db
def test_an_operator_creates_a_scheme_in_the_admin_and_a_reviewer_cannot(client, people):
    pool = PoolFactory()
    form = {
        "pool": pool.pk,
        "event": "Novel coronavirus pneumonia",
        "event_zh": "新冠肺炎",
        "starts_on": "2020-01-01",
        "ends_on": "2020-12-31",
        "payout_cents": 10_000_00,
        "sponsor": "The platform",
    }
    client.force_login(people["inv"])
    assert client.post("/admin/claims/sponsoredscheme/add/", form).status_code == 403
    assert not SponsoredScheme.objects.exists()
    operator = staff("op", "operators")
    client.force_login(operator)
    assert client.post("/admin/claims/sponsoredscheme/add/", form).status_code == 302
    scheme = SponsoredScheme.objects.get()
    assert (scheme.pool, scheme.created_by, scheme.payout_cents) == (pool, operator, 10_000_00)
    backwards = {**form, "starts_on": "2021-01-01"}
    page = client.post("/admin/claims/sponsoredscheme/add/", backwards)
    assert page.status_code == 200 and SponsoredScheme.objects.count() == 1  # refused
