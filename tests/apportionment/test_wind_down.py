"""A pool's wind-down (SPEC 11), end to end on a real worker, and what it refuses."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation

from apportionment import books, collection, figures, publishing
from apportionment.models import Batch, Charge
from claims import services as claim_services
from claims import workflow
from claims.models import Claim, Notification
from ledger.models import Account
from members import services as member_services
from members.models import Membership, Person
from mutualaid import pagecache
from pools.models import CLAIM_WINDOW_DAYS, WindDown
from pools.winddown import (
    announce_wind_down,
    close_ended_wind_downs,
    last_claim_day,
    request_payback,
)
from tests.apportionment.helpers import (
    approved_claim,
    balance,
    family,
    published,
    run_all_chunks,
    top_up,
)
from tests.claims.helpers import staff
from tests.conftest import wait_for
from tests.factories import PersonFactory, PoolFactory, UserFactory

WALLET = 500_00


def paid_out(batch):
    return Batch.objects.get(pk=batch.pk).status == Batch.Status.PAID_OUT


def file(membership, days_ago):
    """A claim filed and submitted by the member, diagnosed `days_ago` days ago (read afresh,
    as a request would)."""
    membership = Membership.objects.select_related("pool", "person").get(pk=membership.pk)
    return claim_services.file_claim(
        membership.person.account,
        membership,
        submit=True,
        condition=membership.pool.conditions.first(),
        cause=Claim.Cause.ILLNESS,
        diagnosis_date=membership.pool.today() - dt.timedelta(days=days_ago),
        hospital="Hospital",
        province="Zhejiang",
    )


def run_batch(pool):
    batch = publishing.start_batch(pool)
    wait_for(lambda: published(batch), timeout=60, message="the batch to publish")
    collection.start_collection(Batch.objects.get(pk=batch.pk))
    wait_for(lambda: paid_out(batch), timeout=60, message="the batch to be paid out")
    batch.refresh_from_db()
    return batch


def assert_sponsored(batch):
    """Every member charged 0.00, the sponsor paying the whole amount: S = A."""
    assert batch.sponsor_reason == Batch.SponsorReason.WIND_DOWN
    charges = Charge.objects.of_batch(batch.pk)
    assert charges.count() == batch.participants > 0
    assert not charges.exclude(amount_cents=0).exists()
    assert batch.amount_cents > 0 and batch.subsidy_cents == batch.amount_cents
    assert charges.aggregate(s=Sum("capped_cents"))["s"] == batch.amount_cents


def test_a_wind_down_from_announcement_to_the_wallets_paid_back(
    celery_worker_process, mail_dir, people
):
    pool = PoolFactory(annual_cap_cents=18_800)
    households = [family(pool, 2) for _ in range(3)]
    for account, _members in households:
        top_up(account, WALLET)
    early = approved_claim(pool, 300_000_00)  # approved before the announcement
    operator = staff("op", "operators")
    celery_worker_process(concurrency=1)

    closing = pool.today() + dt.timedelta(days=10)
    announced = announce_wind_down(
        pool=pool, actor=operator, via=WindDown.Via.ADMIN, closing_date=closing
    )
    assert announced.written and announced.accounts_told == 4  # 3 families + the claimant
    assert announced.claims_until == closing + dt.timedelta(days=CLAIM_WINDOW_DAYS - 1)
    pool.refresh_from_db()
    assert not pool.is_open
    # Enrollment stops at once.
    newcomer = UserFactory()
    with pytest.raises(ValidationError, match="not accepting new members"):
        member_services.enroll(
            newcomer,
            pool,
            person=PersonFactory(account=newcomer),
            declaration_accepted=True,
            rules_accepted=True,
        )
    # Every member told in-app, in both languages, and by email through the worker.
    told = Notification.objects.filter(text__contains="is closing")
    assert told.count() == 4 and "即将关闭" in told.first().text
    wait_for(lambda: len(list(mail_dir.iterdir())) >= 4, timeout=30, message="4 emails")

    # The batches after the announcement: every member charged 0.00, S = A.
    first = run_batch(pool)
    assert_sponsored(first)
    early.refresh_from_db()
    assert early.status == Claim.Status.PAID
    for account, _members in households:
        assert Account.objects.get(kind="wallet", owner=account).balance_cents == WALLET

    # Weeks after the closing date: a diagnosis before it, within 180 days, is still claimed
    # and paid by the sponsor; one more than 180 days old, or after the closing, is refused.
    closing = pool.today() - dt.timedelta(days=20)
    WindDown.objects.filter(pool=pool).update(
        closing_date=closing, claims_until=last_claim_day(closing)
    )
    late_account, (late_member, _) = households[0]
    late = file(late_member, days_ago=100)
    assert late.status == Claim.Status.SUBMITTED
    late = workflow.perform(late, "assign", user=people["inv"])
    late = workflow.perform(late, "report", user=people["inv"], note="Confirmed by records.")
    late = workflow.perform(late, "approve", user=people["adj"])
    late = workflow.run_system(late, "close_notice")
    with pytest.raises(ValidationError, match="only until"):
        file(households[1][1][0], days_ago=CLAIM_WINDOW_DAYS + 10)
    with pytest.raises(ValidationError, match="stopped covering"):
        file(households[1][1][1], days_ago=5)
    sponsor_before = balance(Account.Kind.SPONSOR)

    second = run_batch(pool)
    assert_sponsored(second)
    assert second.payouts_cents == late.payout_cents
    late.refresh_from_db()
    assert late.status == Claim.Status.PAID
    assert balance(Account.Kind.SPONSOR) == sponsor_before - second.amount_cents
    wallet = Account.objects.get(kind="wallet", owner=late_account)
    assert wallet.balance_cents == WALLET + late.payout_cents

    # After the last claim window the pool is closed: memberships end, no claim is taken.
    assert close_ended_wind_downs(today=last_claim_day(closing)) == []
    assert close_ended_wind_downs(today=last_claim_day(closing) + dt.timedelta(days=1)) == [
        pool.slug
    ]
    assert WindDown.objects.get(pool=pool).status == WindDown.Status.CLOSED
    assert not Membership.objects.filter(pool=pool, status__in=Membership.OPEN_STATUSES).exists()
    with pytest.raises(ValidationError, match="closed on"):
        file(households[2][1][0], days_ago=3)

    # Every wallet is paid back, recorded in the ledger; the books balance.
    for account, _members in households:
        request_payback(user=account)
        assert Account.objects.get(kind="wallet", owner=account).balance_cents == 0
    assert balance(Account.Kind.PAYBACKS) == 3 * WALLET + late.payout_cents
    with pytest.raises(ValidationError, match="empty"):
        request_payback(user=late_account)
    problems, _checked = books.check_books()
    assert problems == []


@pytest.mark.django_db
def test_only_operators_announce_and_a_dry_run_writes_nothing(client):
    pool = PoolFactory()
    family(pool, 2)
    investigator = staff("inv", "investigators")
    with pytest.raises(PermissionDenied):
        announce_wind_down(pool=pool, actor=investigator, via=WindDown.Via.ADMIN)
    with pytest.raises(PermissionDenied):
        announce_wind_down(pool=pool, actor=None, via=WindDown.Via.ADMIN)

    # The admin: the action is not offered to a non-operator, and posting it does nothing.
    client.force_login(investigator)
    page = client.get("/admin/pools/pool/")
    assert page.status_code == 200 and b"announce_closing" not in page.content
    post = {
        "action": "announce_closing",
        "_selected_action": [pool.pk],
        "closing_date": pool.today().isoformat(),
    }
    client.post("/admin/pools/pool/", post)
    assert not WindDown.objects.exists()

    # The command: a dry run tells, writes nothing.
    out = io.StringIO()
    call_command("wind_down", pool.slug, "--announce", "--dry-run", stdout=out)
    assert "nothing was written" in out.getvalue() and "1 accounts would be told" in out.getvalue()
    pool.refresh_from_db()
    assert pool.is_open and not WindDown.objects.exists() and not Notification.objects.exists()

    # An operator announces in the admin, after choosing the date.
    operator = staff("op", "operators")
    client.force_login(operator)
    form = client.post("/admin/pools/pool/", {k: v for k, v in post.items() if k != "closing_date"})
    assert b'name="closing_date"' in form.content and not WindDown.objects.exists()
    client.post("/admin/pools/pool/", post)
    wind_down = WindDown.objects.get(pool=pool)
    assert (wind_down.announced_by, wind_down.via) == (operator, WindDown.Via.ADMIN)
    assert Notification.objects.count() == 1  # one account, two memberships
    with pytest.raises(ValidationError, match="announced already"):
        announce_wind_down(pool=pool, actor=operator, via=WindDown.Via.ADMIN)


@pytest.mark.django_db
def test_the_command_refuses_with_a_message():
    pool = PoolFactory()
    with pytest.raises(CommandError, match="No pool 'nope'"):
        call_command("wind_down", "nope", "--announce")
    yesterday = (pool.today() - dt.timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match="in the past"):
        call_command("wind_down", pool.slug, "--announce", "--closing-date", yesterday)
    with pytest.raises(CommandError, match="not a date"):
        call_command("wind_down", pool.slug, "--announce", "--closing-date", "31/12/2026")
    far = (pool.today() + dt.timedelta(days=400)).isoformat()
    with pytest.raises(CommandError, match="at most 366 days"):
        call_command("wind_down", pool.slug, "--announce", "--closing-date", far)
    with pytest.raises(CommandError, match="--announce"):
        call_command("wind_down", pool.slug)
    assert not WindDown.objects.exists()
    out = io.StringIO()
    call_command("wind_down", pool.slug, "--announce", stdout=out)
    assert "is closing" in out.getvalue() and WindDown.objects.filter(pool=pool).exists()
    # The next batch's preview: the sponsor pays it whole.
    family(pool, 3)
    approved_claim(pool, 100_00)
    preview = figures.preview(pool)
    assert preview["subsidy_cents"] == preview["amount_cents"] > 0
    out = io.StringIO()
    call_command("apportion", pool.slug, "--dry-run", stdout=out)
    assert "The sponsor pays the whole amount: wind_down." in out.getvalue()


@pytest.mark.django_db
def test_no_payback_before_a_pool_has_closed():
    pool = PoolFactory()
    account, _members = family(pool, 1)
    top_up(account, 10_00)
    with pytest.raises(ValidationError, match="once a pool of yours has closed"):
        request_payback(user=account)
    assert Person.objects.filter(account=account).exists()
    assert Account.objects.get(kind="wallet", owner=account).balance_cents == 10_00


@pytest.mark.django_db
def test_members_see_the_closing_in_both_languages_and_take_their_wallet_back(client):
    pool = PoolFactory(name="Health pool", name_zh="健康互助计划")
    account, (member,) = family(pool, 1)
    top_up(account, 20_00)
    approved_claim(pool, 100_00)
    announce_wind_down(pool=pool, actor=None, via=WindDown.Via.COMMAND)
    run_all_chunks(publishing.start_batch(pool))
    client.force_login(account)
    english = {
        "home": "This pool is closing.",
        "dashboard": "This pool is closing.",
        "my-charges": "paid by the sponsor: The pool is winding down",
    }
    for name, text in english.items():
        assert text in client.get(reverse(name)).content.decode(), name
    with translation.override("zh-hans"):
        for name in ("home", "dashboard"):
            body = client.get(reverse(name)).content.decode()
            assert "该计划即将关闭。" in body and "This pool is closing" not in body, name
        charges = client.get(reverse("my-charges")).content.decode()
        assert "由赞助方支付" in charges and "计划正在关停" in charges
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Pay my balance back to me" not in dashboard  # not before the pool has closed

    WindDown.objects.filter(pool=pool).update(
        status=WindDown.Status.CLOSED, closed_at=timezone.now()
    )
    Membership.objects.filter(pool=pool).update(  # the close ends them (no payback before)
        status=Membership.Status.POOL_CLOSED, ended_at=timezone.now()
    )
    pagecache.bump(pagecache.MEMBERS, pagecache.POOLS)  # what the daily close's save does
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "This pool has closed." in dashboard and "Pay my balance back to me" in dashboard
    assert "¥20.00" in client.get(reverse("payback")).content.decode()  # confirm first
    assert client.post(reverse("payback")).status_code == 302
    assert Account.objects.get(kind="wallet", owner=account).balance_cents == 0
    assert "This pool is closing." not in client.get(reverse("home")).content.decode()
