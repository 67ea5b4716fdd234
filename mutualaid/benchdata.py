"""Benchmark data: many memberships, inserted set-based (PostgreSQL)."""

import time

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from members.models import Membership
from pools.models import BenefitBand, Pool

BENCH_SLUG = "bench-apportion"
HOST = "localhost"  # an allowed host for the benchmarks' test client
MEMBERS_PER_ACCOUNT = 2


def ensure_bench_members(count: int, out=None) -> Pool:
    """A pool with `count` active memberships (2 per account, each account with a funded
    wallet), created set-based once and reused by every benchmark."""
    pool, _ = Pool.objects.get_or_create(
        slug=BENCH_SLUG,
        defaults={"name": "Benchmark pool", "annual_cap_cents": 10**9, "is_open": False},
    )
    BenefitBand.objects.get_or_create(
        pool=pool, min_age=0, defaults={"max_age": 99, "payout_cents": 30_000_000}
    )
    have = Membership.objects.filter(pool=pool).count()
    if have >= count:
        return pool
    if have:
        raise ValueError(
            f"The bench pool has {have:,} memberships; drop them or use --members {have}."
        )
    if out:
        out.write(f"creating {count:,} memberships (set-based) ...")
    now = timezone.now()
    accounts = -(-count // MEMBERS_PER_ACCOUNT)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM auth_user")
        first_user = cursor.fetchone()[0] + 1
        cursor.execute(
            """
            INSERT INTO auth_user (id, password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined)
            SELECT %(first)s + g, '!', false, 'bench' || (%(first)s + g), '', '', '',
                   false, true, %(now)s
            FROM generate_series(0, %(accounts)s - 1) g
            """,
            {"first": first_user, "accounts": accounts, "now": now},
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('auth_user', 'id'), "
            "(SELECT MAX(id) FROM auth_user))"
        )
        cursor.execute(
            """
            INSERT INTO ledger_account (kind, owner_id, pool_id, balance_cents)
            SELECT 'wallet', id, NULL, 100000 FROM auth_user
            WHERE id BETWEEN %(first)s AND %(first)s + %(accounts)s - 1
            """,
            {"first": first_user, "accounts": accounts},
        )
        cursor.execute(
            """
            INSERT INTO members_person (account_id, relationship, full_name, sex,
                birth_date, identity_number, province, created_at)
            SELECT %(first)s + (g / %(per)s),
                   CASE WHEN g %% %(per)s = 0 THEN 'self' ELSE 'child' END,
                   'Bench ' || g, 'F', DATE '1990-01-01',
                   '8' || lpad(g::text, 17, '0'), 'Zhejiang', %(now)s
            FROM generate_series(0, %(count)s - 1) g
            """,
            {"first": first_user, "per": MEMBERS_PER_ACCOUNT, "count": count, "now": now},
        )
        cursor.execute(
            """
            INSERT INTO members_membership (person_id, pool_id, status, joined_at,
                waiting_ends_on, active_since, status_changed_at)
            SELECT p.id, %(pool)s, 'active', %(joined)s, DATE '2020-01-01',
                   DATE '2020-01-01', %(joined)s
            FROM members_person p WHERE p.full_name LIKE 'Bench %%'
            """,
            {"pool": pool.pk, "joined": now - timezone.timedelta(days=400)},
        )
    with connection.cursor() as cursor:
        # What autovacuum does to long-lived tables in production: statistics, and the
        # visibility map that lets the chunks' joins read the person index alone.
        for table in ("auth_user", "ledger_account", "members_person", "members_membership"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return pool


def timed_get(client, url, repeat=5):
    """(queries of the last run, best time in ms, last response) of a GET, best of `repeat`;
    anything but a 200 stops the benchmark."""
    best, queries, response = float("inf"), [], None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, HTTP_HOST=HOST)
            elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise CommandError(f"{url}: {response.status_code}")
        best, queries = min(best, elapsed), captured.captured_queries
    return queries, best * 1000, response
