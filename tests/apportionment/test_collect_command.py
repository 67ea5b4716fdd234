"""`apportion POOL --collect [BATCH_ID]`: the oldest published batch first, as the retry pays."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from apportionment import tasks
from apportionment.models import Batch
from tests.apportionment.helpers import family, published_batch
from tests.factories import PoolFactory


@pytest.fixture
def two_published(db):
    pool = PoolFactory(fee_rate_bp=0)
    _account, (alice,) = family(pool, 1)
    older = published_batch(pool, {alice: 100})
    newer = published_batch(pool, {alice: 200})
    Batch.objects.filter(pk=older.pk).update(cutoff_at=newer.cutoff_at - dt.timedelta(days=14))
    return pool, older, newer


def statuses(*batches):
    return [Batch.objects.get(pk=b.pk).status for b in batches]


def test_collect_without_an_id_takes_the_oldest_published_batch(two_published, capsys):
    pool, older, newer = two_published
    call_command("apportion", pool.slug, "--collect")
    assert statuses(older, newer) == ["collecting", "published"]
    assert f"Batch #{older.pk}" in capsys.readouterr().out
    Batch.objects.filter(pk=older.pk).update(status="paid_out")
    call_command("apportion", pool.slug, "--collect")  # the next oldest is the newer one now
    assert statuses(older, newer) == ["paid_out", "collecting"]


def test_collect_a_given_batch(two_published):
    pool, older, newer = two_published
    call_command("apportion", pool.slug, "--collect", str(newer.pk))
    assert statuses(older, newer) == ["published", "collecting"]


@pytest.mark.parametrize("which", ["unknown", "other pool", "not published"])
def test_collect_refuses_a_batch_it_cannot_collect(two_published, which):
    pool, older, newer = two_published
    batch_id = {"unknown": newer.pk + 1000, "not published": older.pk}.get(which)
    if which == "other pool":
        batch_id = published_batch(PoolFactory(), {}).pk
    if which == "not published":
        Batch.objects.filter(pk=older.pk).update(status="paid_out")
    with pytest.raises(CommandError, match=f"#{batch_id}"):
        call_command("apportion", pool.slug, "--collect", str(batch_id))
    assert statuses(older, newer) == [
        "paid_out" if which == "not published" else "published",
        "published",
    ]


def test_the_scheduled_collection_starts_the_oldest_batch_first(two_published):
    pool, older, newer = two_published
    assert tasks.collect_pool(pool.pk) == f"collecting batch {older.pk}"
    assert statuses(older, newer) == ["collecting", "published"]
    assert tasks.collect_pool(pool.pk) == f"batch {older.pk} of this pool is still running"
    assert statuses(older, newer) == ["collecting", "published"]
