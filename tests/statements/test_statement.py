"""The member statement (SPEC 11): totals equal the charges and the cap's use; own account only;
CSV and PDF downloads; a bad year is a clear error."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from apportionment import publishing
from apportionment.models import BatchClaim, Charge
from claims.anonymized import anonymized_case
from members.models import Person
from mutualaid.templatetags.money import cents
from statements import services
from tests.apportionment.helpers import approved_claim, collect, run_all_chunks, top_up
from tests.factories import MembershipFactory, PersonFactory, PoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Alice and her child in a pool with a cap of ¥6.00 and no fee, and three claimants with
    funded wallets (a claimant's membership ends when the claim is paid). Batch 1: ¥12.00 over 5
    (¥2.40 each), paid. Batch 2: ¥12.00 over 4 (¥3.00), and the wallet covers only Alice's share:
    the child's is unpaid and the child suspended. Batch 3: ¥12.00 over 2, not collected yet:
    Alice's ¥6.00 is cut to ¥0.60 by the cap."""
    pool = PoolFactory(fee_rate_bp=0, annual_cap_cents=600)
    alice = MembershipFactory(pool=pool)
    account = alice.person.account
    child = MembershipFactory(
        pool=pool,
        person=PersonFactory(account=account, relationship=Person.Relationship.CHILD),
        joined_at=alice.joined_at + dt.timedelta(days=1),
    )
    claimants = [MembershipFactory(pool=pool) for _ in range(3)]
    for claimant in claimants:
        top_up(claimant.person.account, 10_000)
    batches = []
    for claimant, funds in zip(claimants, (480, 300, None), strict=True):
        approved_claim(pool, 1200, membership=claimant)
        batches.append(run_all_chunks(publishing.start_batch(pool)))
        if funds:
            top_up(account, funds)
            collect(batches[-1])
    return account, alice, child, claimants[0], batches


EXPECTED = {
    # membership: statuses, charged, capped, paid, owed, left under the cap
    "alice": (["paid", "paid", "due"], 600, 540, 540, 60, 0),
    "child": (["paid", "unpaid"], 540, 0, 240, 300, 60),
}


def test_statement_totals_equal_the_charges_and_the_caps_use(history):
    account, alice, child, other, batches = history
    statement = services.member_statement(user=account, year=timezone.now().year)
    assert [m.membership for m in statement.memberships] == [alice, child]
    for entry, name in zip(statement.memberships, EXPECTED, strict=True):
        statuses, charged, capped, paid, owed, left = EXPECTED[name]
        charges = Charge.objects.filter(membership=entry.membership)
        assert entry.charged_cents == sum(c.amount_cents for c in charges) == charged
        assert entry.capped_cents == sum(c.capped_cents for c in charges) == capped
        assert [line.payment_status for line in entry.lines] == statuses
        assert (entry.paid_cents, entry.owed_cents) == (paid, owed)
        assert entry.annual_cap_cents == 600 and entry.cap_left_cents == left
        for line, batch in zip(entry.lines, batches, strict=False):
            assert line.batch == batch
            claims = [bc.claim for bc in BatchClaim.objects.filter(batch=batch)]
            assert line.cases == [anonymized_case(claim) for claim in claims]
    assert statement.charged_cents == 1140 and statement.charge_count == 5
    # A year without charges: an empty statement, not an error.
    assert services.member_statement(user=account, year=2001).memberships == []


def test_the_api_shows_the_callers_own_statement_only(client, history):
    account, alice, child, other, batches = history
    assert client.get("/api/v1/statement/").status_code == 401
    client.force_login(other.person.account)
    theirs = client.get("/api/v1/statement/").json()
    assert [m["membership"] for m in theirs["memberships"]] == [other.pk]
    client.force_login(account)
    mine = client.get(f"/api/v1/statement/?year={timezone.now().year}").json()
    assert [m["membership"] for m in mine["memberships"]] == [alice.pk, child.pk]
    first = mine["memberships"][0]
    assert (first["charged_cents"], first["paid_cents"], first["owed_cents"]) == (600, 540, 60)
    line = first["charges"][0]
    assert line["batch"]["id"] == batches[0].pk and line["batch"]["participants"] == 5
    assert line["batch"]["payouts_cents"] == 1200 and line["batch"]["base_share_cents"] == 240
    assert line["payment_status"] == "paid" and len(line["cases"]) == 1
    assert "full_name" not in line["cases"][0] and "identity_number" not in str(line["cases"])


@pytest.mark.parametrize("year", ["abcd", "20261", "1999", "3000", "-1", "٢٠٢٦", "9" * 5000])
def test_a_bad_year_is_a_clear_error(client, history, year):
    client.force_login(history[0])
    answer = client.get("/api/v1/statement/", {"year": year})
    assert answer.status_code == 400 and "year" in answer.json()["detail"]
    page = client.get(reverse("statement"), {"year": year})
    assert page.status_code == 400 and "error-summary" in page.content.decode()
    assert client.get(reverse("statement-pdf"), {"year": year}).status_code == 400


def test_the_page_shows_every_charge_and_links_the_downloads(client, history):
    account, alice, child, other, batches = history
    client.force_login(account)
    body = client.get(reverse("statement")).content.decode()
    for batch in batches:
        assert f"#{batch.pk}</a>" in body
    assert "¥5.40 covered by the annual cap" in body and "unpaid" in body
    assert reverse("statement-csv") in body and reverse("statement-pdf") in body
    assert client.get(reverse("statement")).status_code == 200
    assert reverse("statement") in client.get(reverse("my-charges")).content.decode()
    assert reverse("statement") in client.get(reverse("dashboard")).content.decode()
    assert client.get(reverse("statement")).status_code == 200
    client.logout()
    assert client.get(reverse("statement")).status_code == 302  # to the login page


def test_csv_download_lists_every_charge_and_the_totals(client, history):
    account, alice, child, *_ = history
    client.force_login(account)
    response = client.get(reverse("statement-csv"), {"year": timezone.now().year})
    assert response["Content-Disposition"].endswith(f'statement-{timezone.now().year}.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    charges = [row for row in rows if len(row) == 13 and row[2].startswith("#")]
    assert len(charges) == 5
    assert sorted(row[9] for row in charges) == ["0.60", "2.40", "2.40", "3.00", "3.00"]
    totals = [row for row in rows if len(row) == 7 and row[0] == alice.person.full_name]
    assert totals == [
        [alice.person.full_name, str(alice.pool), "6.00", "5.40", "0.60", "6.00", "0.00"]
    ]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_download_in_both_languages(client, history):
    account, alice, child, other, batches = history
    client.force_login(account)
    response = client.get(reverse("statement-pdf"))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert f"Statement for {timezone.now().year}" in text
    assert alice.person.full_name in text and child.person.full_name in text
    assert f"#{batches[2].pk}" in text and cents(batches[0].payouts_cents) in text
    with translation.override("zh-hans"):
        url = reverse("statement-pdf")
    chinese = pdf_text(client.get(url).content)
    assert f"{timezone.now().year}年对账单" in chinese and "已付" in chinese
