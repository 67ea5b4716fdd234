"""Public reads on a real streaming replica (mutualaid.db_router; bin/replica starts one and
.ci/run exports DATABASE_REPLICA_URL). The replica only sees committed rows that it has replayed,
so these tests commit (transactional) and wait for replay, or pause replay to make the lag
visible. The last test needs no replica: without one every read is on the primary."""

import contextlib
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, router
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apportionment import publishing
from apportionment.models import Batch
from mutualaid import db_router
from notice.models import Objection
from tests.apportionment.helpers import approved_claim, bulk_members, run_all_chunks
from tests.factories import ClaimFactory, MembershipFactory

ROOT = Path(__file__).resolve().parent.parent
REASON = "The hospital named in the case does not treat this."
WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


def on_the_replica(test):
    """A test against the real replica: transactional (the replica sees only commits), with
    replica reads on. Skipped, saying why, when no replica is configured."""
    for mark in (
        pytest.mark.usefixtures("replica_reads"),
        pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
        pytest.mark.skipif(
            not os.environ.get("DATABASE_REPLICA_URL"),
            reason="no replica: DATABASE_REPLICA_URL is unset (`bin/replica start` runs one)",
        ),
    ):
        test = mark(test)
    return test


@pytest.fixture
def replica_reads(settings):
    """Replica reads on (the rest of the suite reads the primary), with a short window."""
    settings.REPLICA_READS = True
    settings.REPLICA_READ_YOUR_WRITES_SECONDS = 1
    yield
    for alias in ("default", "replica"):
        connections[alias].close()


def scalar(alias, sql, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def replayed(timeout=10.0) -> float:
    """Wait until the replica has replayed everything the primary has written; seconds taken."""
    start = time.monotonic()
    lsn = scalar("default", "SELECT pg_current_wal_lsn()::text")
    while not scalar("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]):
        assert time.monotonic() - start < timeout, "the replica did not catch up"
        time.sleep(0.01)
    return time.monotonic() - start


@contextlib.contextmanager
def replay_paused():
    """The replica stops applying the primary's changes: real lag, as long as the block runs."""
    replayed()
    scalar("replica", "SELECT pg_wal_replay_pause()::text")
    try:
        while scalar("replica", "SELECT pg_get_wal_replay_pause_state()") != "paused":
            time.sleep(0.01)
        yield
    finally:
        scalar("replica", "SELECT pg_wal_replay_resume()::text")
    replayed()


@contextlib.contextmanager
def queries():
    """The queries each alias ran in the block: {"default": [sql...], "replica": [sql...]}."""
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        ran = {}
        yield ran
    ran["default"] = [query["sql"] for query in default.captured_queries]
    ran["replica"] = [query["sql"] for query in replica.captured_queries]
    assert not [sql for sql in ran["replica"] if sql.lstrip().upper().startswith(WRITES)]


def tables(sqls):
    """The tables the queries read or wrote."""
    return {name for sql in sqls for name in re.findall(r'(?:FROM|JOIN|INTO|UPDATE) "(\w+)"', sql)}


def published_batch(pool):
    bulk_members(pool, 8)
    approved_claim(pool, 5_000)
    return run_all_chunks(publishing.start_batch(pool))


@on_the_replica
def test_public_reports_read_the_replica_and_sign_ins_the_primary(client, pool, settings):
    batch = published_batch(pool)
    replayed()
    settings.REPLICA_READ_YOUR_WRITES_SECONDS = 0  # the batch's page-cache bump is not "recent"
    with queries() as ran:
        index = client.get(reverse("reports"))
        detail = client.get(reverse("report-detail", args=[batch.pk]))
        api = client.get(f"/api/v1/batches/{batch.pk}/")
    assert index.status_code == detail.status_code == api.status_code == 200
    assert batch.merkle_root in detail.content.decode() and api.json()["merkle_root"]
    assert "apportionment_batch" in tables(ran["replica"])
    assert ran["default"] == []  # anonymous: nothing at all on the primary

    member = batch.charges.select_related("account").first().account
    client.force_login(member)
    with queries() as ran:
        proof = client.get(f"/api/v1/batches/{batch.pk}/proof/")
        detail = client.get(reverse("report-detail", args=[batch.pk]))
    assert proof.json()["merkle_root"] == batch.merkle_root
    assert "apportionment_charge" in tables(ran["replica"])
    # Who is signed in is read on the primary: a logout counts at once, lag or not.
    assert tables(ran["default"]) <= {"django_session", "auth_user"}
    assert "auth_user" in tables(ran["default"])

    # Not a public view: the member's own charges page reads the primary.
    with queries() as ran:
        assert client.get(reverse("my-charges")).status_code == 200
    assert ran["replica"] == [] and "apportionment_charge" in tables(ran["default"])


@on_the_replica
def test_a_batch_published_while_the_replica_lags_shows_once_replayed(client, pool):
    published_batch(pool)
    with replay_paused():
        approved_claim(pool, 7_000)
        second = run_all_chunks(publishing.start_batch(pool))  # committed on the primary
        listed = [row["id"] for row in client.get("/api/v1/batches/").json()["results"]]
        assert second.pk not in listed  # read on the paused replica
        assert Batch.objects.filter(pk=second.pk).exists()  # outside a request: the primary
    listed = [row["id"] for row in client.get("/api/v1/batches/").json()["results"]]
    assert second.pk in listed


@on_the_replica
def test_a_members_objection_is_read_back_from_the_primary(client, settings):
    claim = ClaimFactory()
    url = reverse("notice-record", args=[claim.pk])
    client.force_login(MembershipFactory().person.account)
    anonymous = Client()
    with replay_paused():
        with queries() as ran:
            response = client.post(url, {"reason": REASON}, follow=True)
        # The POST wrote on the primary; the page it redirects to reads the primary too.
        assert "Your objection was filed" in response.content.decode()
        assert REASON in response.content.decode()
        assert ran["replica"] == []
        assert db_router.COOKIE in response.cookies or db_router.COOKIE in client.cookies
        # Someone else reads the lagging replica: the objection is not there yet.
        with queries() as ran:
            page = anonymous.get(url).content.decode()
        assert "notice_objection" in tables(ran["replica"]) and REASON not in page
    assert REASON in anonymous.get(url).content.decode()
    assert Objection.objects.filter(claim=claim).count() == 1

    # Once the window is over, the member's public reads go back to the replica.
    time.sleep(settings.REPLICA_READ_YOUR_WRITES_SECONDS + 1.1)
    with queries() as ran:
        assert REASON in client.get(url).content.decode()
    assert "notice_objection" in tables(ran["replica"])


@on_the_replica
def test_a_page_cached_just_after_a_change_is_rendered_from_the_primary(client, settings):
    """The board is cached under versions a write bumps: rendered right after a bump from a
    lagging replica, the old board would be kept under the new version (mutualaid.pagecache)."""
    if not settings.CACHE_URL:
        pytest.skip("no shared cache: CACHE_URL is unset, pages are rendered every time")
    first = ClaimFactory()
    assert (
        reverse("notice-record", args=[first.pk]) in client.get(reverse("notice")).content.decode()
    )
    with replay_paused():
        second = ClaimFactory()  # bumps the board's version when it commits
        with queries() as ran:
            board = client.get(reverse("notice")).content.decode()
        assert reverse("notice-record", args=[second.pk]) in board
        assert "claims_claim" in tables(ran["default"]) and ran["replica"] == []
    settings.REPLICA_READ_YOUR_WRITES_SECONDS = 0  # the bump is old now: the replica again
    client.get(reverse("notice", query={"page": "1"}))
    with queries() as ran:
        board = client.get(reverse("notice", query={"page": "2"})).content.decode()
    assert "claims_claim" in tables(ran["replica"])


@on_the_replica
def test_a_replica_that_cannot_be_reached_costs_its_reads_not_the_page(client, pool):
    published_batch(pool)
    replica = connections["replica"]
    replica.close()
    port = replica.settings_dict["PORT"]
    replica.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        with CaptureQueriesContext(connections["default"]) as default:
            response = client.get("/api/v1/batches/")
    finally:
        replica.settings_dict["PORT"] = port
    assert response.status_code == 200 and response.json()["count"] == 1
    assert "apportionment_batch" in tables(query["sql"] for query in default.captured_queries)


@on_the_replica
def test_writes_and_migrations_never_go_to_the_replica():
    for model in (Batch, Objection):
        assert router.db_for_write(model) == "default"
        assert router.allow_migrate("replica", model._meta.app_label) is False
        assert router.allow_migrate("default", model._meta.app_label) is True
    # The replica refuses writes itself, should anything try.
    with pytest.raises(Exception, match="read-only transaction"):
        scalar("replica", "CREATE TABLE never_written (id int) ")


@on_the_replica
def test_replica_lag_measures_commit_to_replay():
    out = io.StringIO()
    call_command("replica_lag", commits=5, stdout=out)
    figures = dict(re.findall(r"(p50|p95|p99|max) ([0-9.]+)", out.getvalue()))
    assert out.getvalue().startswith("5 commits") and set(figures) == {"p50", "p95", "p99", "max"}
    assert 0 < float(figures["p50"]) <= float(figures["max"]) < 30_000
    with pytest.raises(CommandError, match="between 1 and"):
        call_command("replica_lag", commits=0)


def test_without_a_replica_every_read_is_on_the_primary():
    """A process with no DATABASE_REPLICA_URL has no replica alias, and a public page's reads
    stay on the primary (checked without a database: where the router sends them)."""
    script = """
import django
django.setup()
from django.conf import settings
from django.db import router
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve
from apportionment.models import Batch
from mutualaid.db_router import ReplicaMiddleware

assert list(settings.DATABASES) == ["default"], settings.DATABASES
seen = []
def view(request):
    middleware.process_view(request, None, (), {})
    seen.append(router.db_for_read(Batch))
    return HttpResponse()
middleware = ReplicaMiddleware(view)
request = RequestFactory().get("/reports/")
request.resolver_match = resolve("/reports/")
response = middleware(request)
assert seen == ["default"], seen
assert not response.cookies
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    env["REPLICA_READS"] = "true"  # on, as in production: only the missing URL keeps it off
    env.setdefault("DJANGO_SETTINGS_MODULE", "mutualaid.settings")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
