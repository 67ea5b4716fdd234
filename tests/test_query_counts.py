"""The main pages' query counts are pinned: an N+1 query (one more query per membership,
charge, claim or case) fails here."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apportionment import apportionment
from claims import workflow
from claims.services import create_draft
from members.models import Person
from tests.apportionment.conftest import approved_claim, run_all_chunks
from tests.claims.test_workflow import draft, people, to_investigated  # noqa: F401 (fixture)
from tests.factories import MembershipFactory, PersonFactory, PoolFactory


def family(pool, size):
    """An account holder and size - 1 family members, each a member of the pool."""
    holder = MembershipFactory(pool=pool)
    account = holder.person.account
    for _ in range(size - 1):
        MembershipFactory(
            pool=pool,
            person=PersonFactory(account=account, relationship=Person.Relationship.CHILD),
        )
    return account


def world(size, people):  # noqa: F811
    """`size` of everything a member's pages list: memberships, charges, claims, cases."""
    pool = PoolFactory(annual_cap_cents=10**9)
    account = family(pool, size)
    for membership in account.persons.get(relationship="self").memberships.all():
        first = create_draft(
            account,
            membership,
            condition=pool.conditions.first(),
            cause="illness",
            diagnosis_date=membership.waiting_ends_on,
            hospital="H",
            province="Zhejiang",
        )
    for _ in range(size):
        approved_claim(pool, 1_000)
        run_all_chunks(apportionment.start_batch(pool))
    for _ in range(size):
        workflow.perform(to_investigated(draft(), people), "approve", user=people["adj"])
    return account, first, pool


PAGES = {
    # name: (signed in?, url kwargs from the world, pinned query count)
    "home": (False, lambda w: {}, 2),
    "notice": (False, lambda w: {}, 2),
    "reports": (False, lambda w: {}, 2),
    "dashboard": (True, lambda w: {}, 12),
    "my-charges": (True, lambda w: {}, 4),
    "claim-detail": (True, lambda w: {"pk": w[1].pk}, 7),
    "report-detail": (False, lambda w: {"pk": w[2].batches.last().pk}, 2),
}


def count_queries(client, name, kwargs):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, name
    return len(queries)


@pytest.mark.parametrize("name", PAGES)
def test_page_query_count_is_pinned_and_flat(client, people, name):  # noqa: F811
    signed_in, kwargs, pinned = PAGES[name]
    counts = []
    for size in (1, 4):
        current = world(size, people)
        if signed_in:
            client.force_login(current[0])
        client.get(reverse(name, kwargs=kwargs(current)))  # warm per-process caches
        counts.append(count_queries(client, name, kwargs(current)))
    assert counts[0] == counts[1], f"{name}: {counts[0]} queries with 1 item, {counts[1]} with 4"
    assert counts[1] == pinned, f"{name}: {counts[1]} queries, pinned at {pinned}"
