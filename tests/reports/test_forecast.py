"""Cost forecast (SPEC 11): a hand-computed example, the API, and forecast against actual."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apportionment import publishing
from claims.models import Claim, ClaimEvent
from members.models import Membership
from reports import forecast
from reports.models import ShareForecast
from tests.apportionment.helpers import approved_claim, bulk_members, run_all_chunks
from tests.factories import MembershipFactory, PoolFactory

pytestmark = pytest.mark.django_db
S = Claim.Status


def claim(pool, status, payout=None, membership_status=Membership.Status.ACTIVE):
    """A claim of a new member of the pool, in this status (an approved one, moved)."""
    membership = MembershipFactory(pool=pool, status=membership_status)
    moved = approved_claim(pool, 1, membership=membership)
    Claim.objects.filter(pk=moved.pk).update(status=status, payout_cents=payout, approved_at=None)
    return moved


def went(claim, *statuses):
    """The claim's events: it moved through these statuses in turn."""
    for before, after in zip(("investigated", *statuses), statuses, strict=False):
        ClaimEvent.objects.create(claim=claim, action="test", from_status=before, to_status=after)


@pytest.fixture
def pool():
    """8 members; 3 resolved claims approved from public notice and 1 rejected by a panel;
    now one approved claim (¥1,000) not in a batch, one on public notice (¥2,000) and one just
    submitted (no payout yet: the schedule's ¥300,000 for a 36-year-old)."""
    pool = PoolFactory(fee_rate_bp=800)
    bulk_members(pool, 8)
    for _ in range(3):
        went(claim(pool, S.PAID, 5_000, Membership.Status.PAID_OUT), S.PUBLIC_NOTICE, S.APPROVED)
    rejected = claim(pool, S.REJECTED, 5_000, Membership.Status.WITHDRAWN)
    went(rejected, S.PUBLIC_NOTICE, S.PANEL_REVIEW, S.REJECTED)
    approved_claim(pool, 100_000)
    went(claim(pool, S.PUBLIC_NOTICE, 200_000), S.PUBLIC_NOTICE)
    went(claim(pool, S.SUBMITTED), S.SUBMITTED)
    return pool


def test_the_expected_share_equals_the_hand_computed_example(pool):
    result = forecast.forecast_for(pool)
    # Rates from the events: public notice 3 of 4 approved; panel review 0 of 1; submitted: none
    # resolved, the stated default.
    assert result.rates[S.PUBLIC_NOTICE].rate == Decimal("0.75")
    assert result.rates[S.PANEL_REVIEW].rate == 0
    assert result.rates[S.SUBMITTED].rate == forecast.DEFAULT_APPROVAL_RATE == Decimal("0.5")
    assert result.uses_default_rate
    # N: the 8 members and the 3 open claims' members (the resolved claims' have ended).
    assert result.participants == 11
    # P = 100,000 + 0.75 × 200,000 + 0.5 × 30,000,000 = 15,250,000 cents
    assert result.expected_payouts_cents == 15_250_000
    # F = round-half-up(P × 8%) = 1,220,000; A = 16,470,000; share = A div 11 = 1,497,272
    assert result.expected_cents == 1_497_272
    # Low: no claim in review approved (the normal bound falls below it): (100,000 + 8,000) / 11
    assert result.low_payouts_cents == 100_000 and result.low_cents == 9_818
    # High: every claim approved (below the normal bound): 30,300,000 + 2,424,000 div 11
    assert result.high_payouts_cents == 30_300_000 and result.high_cents == 2_974_909
    assert result.review_claims == 2 and result.review_cents == 30_200_000


def test_a_pool_without_history_uses_the_default_rate():
    pool = PoolFactory(fee_rate_bp=0)
    bulk_members(pool, 3)
    assert not forecast.forecast_for(pool).uses_default_rate  # no claim in review
    went(claim(pool, S.INVESTIGATED, 1_000), S.INVESTIGATED)
    result = forecast.forecast_for(pool)
    assert all(rate.is_default for rate in result.rates.values()) and result.uses_default_rate
    assert result.participants == 4 and result.expected_payouts_cents == 500
    assert result.expected_cents == 125
    # One claim of ¥10: the 10th/90th percentiles of 0 or 1,000 with p = 0.5, sd = 500
    assert (result.low_payouts_cents, result.high_payouts_cents) == (0, 1_000)


def test_the_api_answers_the_forecast_and_404_json_for_an_unknown_pool(client, pool):
    answer = client.get(f"/api/v1/pools/{pool.slug}/forecast/")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["low_cents"], body["expected_cents"], body["high_cents"]) == (
        9_818,
        1_497_272,
        2_974_909,
    )
    assert body["rates"]["public_notice"] == {"rate": "0.7500", "approved": 3, "resolved": 4}
    missing = client.get("/api/v1/pools/no-such-pool/forecast/")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json()["detail"]


def test_the_pages_show_the_forecast(client, pool):
    home = client.get(reverse("home")).content.decode()
    assert f'id="forecast-{pool.slug}"' in home and "¥14,972.72" in home
    member = Membership.objects.filter(pool=pool, status="active").last().person.account
    client.force_login(member)
    assert "¥14,972.72" in client.get(reverse("dashboard")).content.decode()


def test_a_published_batch_shows_its_forecast_against_the_actual_share(client):
    pool = PoolFactory(fee_rate_bp=0)
    bulk_members(pool, 4)
    approved_claim(pool, 1_000)
    first = run_all_chunks(publishing.start_batch(pool))
    pending = ShareForecast.objects.get(pool=pool, batch=None)  # recorded at publication
    assert pending.made_at >= first.published_at and pending.expected_cents == 0
    approved_claim(pool, 2_000)  # not foreseen: approved after the forecast
    second = run_all_chunks(publishing.start_batch(pool))
    pending.refresh_from_db()
    assert pending.batch == second and pending.error_cents == second.base_share_cents > 0
    assert ShareForecast.objects.filter(pool=pool, batch=None).count() == 1  # the next one
    detail = client.get(reverse("report-detail", args=[second.pk])).content.decode()
    assert 'id="forecast-vs-actual"' in detail and f"¥{second.base_share_cents / 100:.2f}" in detail
    first_detail = client.get(reverse("report-detail", args=[first.pk])).content.decode()
    assert "No forecast was recorded for this batch." in first_detail
    reports = client.get(reverse("reports")).content.decode()
    assert "Forecast error: actual share minus forecast" in reports
    assert reports.count('fill="#b3261e"') == 1  # one bar: one batch with a forecast
    # The signal sent again (the sweeper) records nothing twice.
    forecast.on_batch_published(batch=second)
    assert ShareForecast.objects.filter(pool=pool).count() == 2
