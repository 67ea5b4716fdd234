"""What the apportionment tests share: batches made by hand, wallets topped up, collection."""

import datetime as dt

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from apportionment import collection, engine
from apportionment.models import Batch, Charge, Chunk
from claims.models import Claim
from ledger.models import Account
from ledger.services import (
    post,
    system_account,
    wallet_for,
)
from members.models import Person
from reports import services as report_services
from tests.factories import ConditionFactory, MembershipFactory, PersonFactory, UserFactory

YEAR_AGO = dt.timedelta(days=365)


def assert_exact(batch, participants):
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PUBLISHED, batch.message
    charges = Charge.objects.filter(batch=batch)
    assert charges.count() == participants == batch.participants
    assert charges.values("membership_id").distinct().count() == participants, (
        "a membership was charged twice"
    )
    total = charges.aggregate(s=Sum("amount_cents"))["s"]
    assert total + batch.subsidy_cents == batch.amount_cents


def published(batch):
    batch.refresh_from_db()
    return batch.status != Batch.Status.PUBLISHING


def top_up(user, cents):
    post(
        "top-up",
        [(system_account(Account.Kind.PAYMENT_PROVIDER), -cents), (wallet_for(user), cents)],
    )


def collect(batch):
    collection.start_collection(batch)
    return run_all_chunks(batch)


def family(pool, size, account=None):
    """The holder's membership then `size - 1` family memberships, joined in that order."""
    account = account or UserFactory()
    joined = timezone.now() - dt.timedelta(days=365)
    members = [
        MembershipFactory(pool=pool, person=PersonFactory(account=account), joined_at=joined)
    ]
    for n in range(1, size):
        members.append(
            MembershipFactory(
                pool=pool,
                person=PersonFactory(account=account, relationship=Person.Relationship.CHILD),
                joined_at=joined + dt.timedelta(days=n),
            )
        )
    return account, members


def published_batch(pool, amounts: dict, status=Batch.Status.PUBLISHED, outstanding=False):
    """A batch whose charges are the given {membership: amount_cents} (as publication writes
    them: the charge's account is the membership's account holder)."""
    total = sum(amounts.values())
    batch = Batch.objects.create(
        pool=pool,
        status=status,
        cutoff_at=timezone.now() - dt.timedelta(days=7),
        cap_year=timezone.now().year,
        payouts_cents=total,
        amount_cents=total,
        participants=len(amounts),
        published_at=timezone.now(),
    )
    for membership, amount in amounts.items():
        Charge.objects.create(
            batch=batch,
            membership=membership,
            account_id=membership.person.account_id,
            amount_cents=amount,
            outstanding=outstanding,
        )
    return batch


def balance(kind, pool=None):
    return system_account(kind, pool).balance_cents


def bulk_members(pool, count, status="active"):
    """`count` memberships of one family account, inserted set-based (fast at any size)."""
    account = UserFactory()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO members_person
                (account_id, relationship, full_name, sex, birth_date, identity_number,
                 province, created_at)
            SELECT %(account)s, 'child', 'Bulk ' || g, 'F', DATE '1990-01-01',
                   '9' || lpad(%(account)s::text, 7, '0') || lpad(g::text, 10, '0'),
                   'Zhejiang', %(now)s
            FROM generate_series(1, %(n)s) g
            """,
            {"account": account.pk, "n": count, "now": now},
        )
        cursor.execute(
            """
            INSERT INTO members_membership
                (person_id, pool_id, status, joined_at, waiting_ends_on, active_since,
                 status_changed_at)
            SELECT p.id, %(pool)s, %(status)s, %(joined)s, DATE '2020-01-01', DATE '2020-01-01',
                   %(joined)s
            FROM members_person p WHERE p.account_id = %(account)s
            """,
            {
                "pool": pool.pk,
                "status": status,
                "account": account.pk,
                "joined": now - YEAR_AGO,
            },
        )
    return account


def approved_claim(pool, payout_cents, approved_at=None, membership=None):
    membership = membership or MembershipFactory(pool=pool)
    return Claim.objects.create(
        membership=membership,
        pool=pool,
        claimant=membership.person.account,
        condition=ConditionFactory(),
        diagnosis_date=timezone.now().date() - dt.timedelta(days=20),
        hospital="Test hospital",
        province="Zhejiang",
        status=Claim.Status.APPROVED,
        payout_cents=payout_cents,
        approved_at=approved_at or timezone.now() - dt.timedelta(days=1),
    )


def run_all_chunks(batch):
    """Run the batch's pending chunks in this process (what the worker would do), until none
    is pending (a batch whose odd-cent band missed runs its chunks again)."""
    pending = Chunk.objects.filter(batch=batch, status="pending").values_list("pk", flat=True)
    for _round in range(3):
        for chunk_id in list(pending):
            engine.run_chunk(chunk_id)
    batch.refresh_from_db()
    if batch.status == Batch.Status.PUBLISHED and not batch.merkle_root:
        report_services.store_root(batch.pk)  # the task after commit
        batch.refresh_from_db()
    return batch


def collection_debit_table(rows=()):
    """A collect chunk's temp table collection_debit (gone with its chunk) holding `rows` of
    (wallet_id, pool_id, amount), for the chunk's ledger statement alone."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS collection_debit")
        cursor.execute(
            "CREATE TEMP TABLE collection_debit"
            " (wallet_id BIGINT, pool_id BIGINT, amount BIGINT, paid BIGINT)"
        )
        for row in rows:
            cursor.execute("INSERT INTO collection_debit VALUES (%s, %s, %s, 1)", row)
