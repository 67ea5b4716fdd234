import datetime as dt

from django.db import connection
from django.utils import timezone

from apportionment import engine
from apportionment.models import Batch, Chunk
from claims.models import Claim
from reports import services as report_services
from tests.factories import ConditionFactory, MembershipFactory, UserFactory

YEAR_AGO = dt.timedelta(days=365)


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
