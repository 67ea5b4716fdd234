"""python manage.py bench_statement [--years 5] [--memberships 2] [--cases 2]

A member with years of history: one account with `--memberships` memberships in a pool with one
batch a month (60 batches for 5 years), each batch with `--cases` claims; then the statement
page of the busiest year, all its years in turn, and the CSV and PDF downloads, each with its
query count and time (best of 5). Everything is created in a transaction that is rolled back.
"""

import datetime as dt
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apportionment.models import Batch, BatchClaim, Charge
from claims.models import Claim
from members.identity import make_identity_number
from members.models import Membership, Person
from mutualaid.benchdata import timed_get
from mutualaid.pairkeys import pair_key
from pools.models import Condition, Pool


class Rollback(Exception):
    pass


def person(account, n, relationship="self"):
    birth = dt.date(1980, 1, 1) + dt.timedelta(days=n)
    return Person.objects.create(
        account=account,
        relationship=relationship,
        full_name=f"Bench person {n}",
        sex="F",
        birth_date=birth,
        identity_number=make_identity_number("330102", birth, n % 999),
        province="Zhejiang",
    )


def membership(pool, who, joined):
    return Membership.objects.create(
        person=who,
        pool=pool,
        status=Membership.Status.ACTIVE,
        joined_at=joined,
        waiting_ends_on=joined.date(),
        active_since=joined.date(),
        status_changed_at=joined,
    )


def history(years: int, memberships: int, cases: int):
    """The account, and the years of its history (oldest first)."""
    users = get_user_model()
    now = timezone.now()
    start = now - dt.timedelta(days=365 * years + 30)
    pool = Pool.objects.create(slug="bench-statement", name="Statement benchmark")
    condition = Condition.objects.create(code="BENCH-S", name="Bench illness", category="Cancer")
    account = users.objects.create(username="bench-statement-member")
    own = [
        membership(pool, person(account, i, "self" if i == 0 else "child"), start)
        for i in range(memberships)
    ]
    claimants = users.objects.create(username="bench-statement-claimants")
    batches = []
    for month in range(12 * years):
        cutoff = start + dt.timedelta(days=30 * month + 30)
        batch = Batch.objects.create(
            pool=pool,
            status=Batch.Status.PAID_OUT,
            cutoff_at=cutoff,
            payouts_cents=cases * 1_000_000,
            fee_cents=cases * 80_000,
            amount_cents=cases * 1_080_000,
            participants=100_000,
            base_share_cents=cases * 1_080_000 // 100_000,
            cap_year=cutoff.year,
            annual_cap_cents=pool.annual_cap_cents,
            fee_rate_bp=800,
            published_at=cutoff,
            collected_at=cutoff + dt.timedelta(days=7),
        )
        batches.append(batch)
        for case in range(cases):
            who = person(claimants, 1000 + month * cases + case, "child")
            member = membership(pool, who, start)
            claim = Claim.objects.create(
                membership=member,
                pool=pool,
                claimant=claimants,
                condition=condition,
                diagnosis_date=cutoff.date() - dt.timedelta(days=20),
                hospital="Bench hospital",
                province="Zhejiang",
                status=Claim.Status.PAID,
                payout_cents=1_000_000,
                approved_at=cutoff - dt.timedelta(days=5),
            )
            BatchClaim.objects.create(batch=batch, claim=claim, payout_cents=1_000_000)
    Charge.objects.bulk_create(
        Charge(
            id=pair_key(batch.pk, m.pk),
            batch=batch,
            membership=m,
            account=account,
            amount_cents=batch.base_share_cents,
        )
        for batch in batches
        for m in own
    )
    return account, sorted({b.cap_year for b in batches})


def timed(client, url, repeat=5) -> tuple[int, float, int]:
    """(queries, best time in ms, bytes) of a GET."""
    queries, ms, response = timed_get(client, url, repeat)
    return len(queries), ms, len(response.content)


class Command(BaseCommand):
    help = "Query count and time of the statement page for a member with years of history."

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument("--memberships", type=int, default=2)
        parser.add_argument("--cases", type=int, default=2)

    def handle(self, years, memberships, cases, **options):
        if not (1 <= years <= 20 and 1 <= memberships <= 10 and 0 <= cases <= 20):
            raise CommandError("--years 1..20, --memberships 1..10, --cases 0..20")
        try:
            with transaction.atomic():
                self.run(years, memberships, cases)
                raise Rollback
        except Rollback:
            self.stdout.write("(benchmark data rolled back)")

    def run(self, years, memberships, cases):
        started = time.perf_counter()
        account, all_years = history(years, memberships, cases)
        charges = Charge.objects.of_account(account).count()
        self.stdout.write(
            f"history: {12 * years} batches, {charges} charges, {12 * years * cases} cases, "
            f"{len(all_years)} calendar years ({time.perf_counter() - started:.1f} s to create)"
        )
        client = Client()
        client.force_login(account)
        mine = Charge.objects.of_account(account)
        busiest = max(all_years, key=lambda y: mine.filter(batch__cap_year=y).count())
        for name in ("statement", "statement-csv", "statement-pdf"):
            url = f"{reverse(name)}?year={busiest}"
            queries, ms, size = timed(client, url)
            self.stdout.write(f"{url}: {queries} queries, {ms:.1f} ms, {size:,} bytes")
        for year in all_years:
            queries, ms, _size = timed(client, f"{reverse('statement')}?year={year}", repeat=3)
            self.stdout.write(f"  /statement/?year={year}: {queries} queries, {ms:.1f} ms")
        queries, ms, _size = timed(client, f"/api/v1/statement/?year={busiest}")
        self.stdout.write(f"/api/v1/statement/?year={busiest}: {queries} queries, {ms:.1f} ms")
