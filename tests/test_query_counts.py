"""The main pages' query counts are pinned: an N+1 query (one more query per membership,
charge, claim or case) fails here."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.timezone import now

from apportionment import publishing
from claims import workflow
from claims.services import create_draft
from members.models import Person
from pools import rules
from pools.models import RuleVersion
from tests.apportionment.helpers import approved_claim, run_all_chunks
from tests.claims.helpers import draft, to_investigated
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
        run_all_chunks(publishing.start_batch(pool))
    for _ in range(size):
        workflow.perform(to_investigated(draft(), people), "approve", user=people["adj"])
    for year in range(size):  # versions of the pool's rules
        values = {**rules.from_pool(pool).values(), "annual_cap_cents": year}
        RuleVersion.objects.create(
            pool=pool, effective_on=dt.date(2000 + year, 1, 1), published_at=now(), **values
        )
    return account, first, pool


PAGES = {
    # name: (signed in?, url kwargs from the world, pinned query count without / with CACHE_URL)
    # With the shared cache the session and the pages' cached content come from Redis.
    "home": (False, lambda w: {}, (6, 0)),  # 4 of them: the pools' forecasts
    "notice": (False, lambda w: {}, (2, 0)),
    "reports": (False, lambda w: {}, (8, 0)),  # 5: the forecasts and their history
    "dashboard": (True, lambda w: {}, (17, 1)),  # 5: the member's pools' forecasts
    "my-charges": (True, lambda w: {}, (4, 3)),
    "statement": (True, lambda w: {}, (6, 5)),
    # The draft form's choices: memberships, conditions, sponsored schemes (one query each).
    "claim-detail": (True, lambda w: {"pk": w[1].pk}, (8, 7)),
    "report-detail": (False, lambda w: {"pk": w[2].batches.last().pk}, (3, 3)),
    "pool-rules": (False, lambda w: {"slug": w[2].slug}, (3, 0)),
}


def count_queries(client, name, kwargs):
    """The page's queries (their SQL, so a failure shows what was added)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, name
    return [query["sql"] for query in queries.captured_queries]


def shown(queries) -> str:
    return "\n".join(f"  {i}. {sql}" for i, sql in enumerate(queries, 1))


@pytest.mark.parametrize("name", PAGES)
def test_page_query_count_is_pinned_and_flat(client, people, name, settings):  # noqa: F811
    signed_in, kwargs, (plain, cached) = PAGES[name]
    pinned = cached if settings.CACHE_URL else plain
    counts = []
    for size in (1, 4):
        current = world(size, people)
        if signed_in:
            client.force_login(current[0])
        for _warm in range(2):  # per-process caches; a first view may create the wallet
            client.get(reverse(name, kwargs=kwargs(current)))
        counts.append(count_queries(client, name, kwargs(current)))
    one, four = counts
    assert len(one) == len(four), (
        f"{name}: {len(one)} queries with 1 item, {len(four)} with 4:\n{shown(four)}"
    )
    assert len(four) == pinned, f"{name}: {len(four)} queries, pinned at {pinned}:\n{shown(four)}"
