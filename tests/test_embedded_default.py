"""The embedded default of `bin/run` (SQLite and kombu's filesystem broker): the test suite runs
on PostgreSQL, so the batch engine's SQL is run here once on SQLite, in a process of its own."""

import os
import subprocess
import sys

from django.conf import settings

COLLECT_AND_SETTLE = """
import datetime as dt
from django.contrib.auth import get_user_model
from apportionment import collection, engine, publishing
from apportionment.models import Batch, Charge, Chunk
from ledger.services import balances_match_entries, unbalanced_transactions
from members.identity import make_identity_number
from members.services import PersonDetails, enroll, top_up_wallet
from pools.models import Pool

pool = Pool.objects.get(slug="critical-illness-adults")
newcomer = get_user_model().objects.create_user("newcomer")  # joins today, wallet empty
born = dt.date(1991, 4, 2)
enroll(newcomer, pool, details=PersonDetails("self", "New Comer", "F", born,
       make_identity_number("330106", born, 9), "Zhejiang"),
       declaration_accepted=True, rules_accepted=True)
batch = publishing.start_batch(pool)  # the demo's approved case (frank's)
for chunk_id in Chunk.objects.filter(batch=batch, phase="publish").values_list("pk", flat=True):
    engine.run_chunk(chunk_id)
batch.refresh_from_db()
assert batch.status == "published", (batch.status, batch.message)
assert Charge.objects.of_batch(batch.pk).count() == batch.participants > 100
collection.start_collection(batch)
for chunk_id in Chunk.objects.filter(batch=batch, phase="collect").values_list("pk", flat=True):
    engine.run_chunk(chunk_id)
batch.refresh_from_db()
assert batch.status == "paid_out", batch.status
unpaid = Charge.objects.of_batch(batch.pk).filter(outstanding=True)
assert newcomer.pk in set(unpaid.values_list("account", flat=True))
owed = sum(unpaid.filter(account=newcomer).values_list("amount_cents", flat=True))
top_up_wallet(newcomer, owed)  # settles the unpaid charge (the retry path)
assert not unpaid.filter(account=newcomer).exists()
assert not list(unbalanced_transactions()) and balances_match_entries()
from django.core.management import call_command
call_command("verify_books")  # the reserve is whole again, on SQLite too
print("collected and settled on", batch.pk)

# The pages of the README's first command (the forecast, statement and rules read raw SQL too).
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
pages = ["/", "/zh-hans/", "/reports/", f"/reports/{batch.pk}/", "/notice/",
         f"/pools/{pool.slug}/rules/", f"/api/v1/pools/{pool.slug}/forecast/"]
client.force_login(get_user_model().objects.get(username="alice"))
pages += ["/dashboard/", "/charges/", "/statement/", "/statement/pdf/", "/api/v1/statement/"]
statuses = {page: client.get(page).status_code for page in pages}
assert set(statuses.values()) == {200}, statuses
print("pages answer on", len(pages))

# A set-based notice (notify_many) finds the rows it wrote again to queue their emails.
from claims.models import Notification
from pools.winddown import announce_wind_down
seniors = Pool.objects.get(slug="cancer-seniors")
operator = get_user_model().objects.get(username="operator")
told = announce_wind_down(pool=seniors, actor=operator, via="admin").accounts_told
assert told == Notification.objects.filter(text__contains="is closing").count() > 0, told
print("told", told)
"""


def manage(*args, var_dir):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CACHE_URL")
    }
    env["MUTUALAID_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_batch_is_published_collected_and_settled_and_the_pages_answer_on_the_embedded_default(
    tmp_path,
):
    for step in (
        ["migrate", "--verbosity", "0"],
        ["seed_demo", "--members", "200"],
        ["shell", "-c", COLLECT_AND_SETTLE],
    ):
        done = manage(*step, var_dir=tmp_path)
        assert done.returncode == 0, f"{step[0]}: {done.stderr[-3000:]}"
    assert (tmp_path / "mutualaid.sqlite3").exists()  # SQLite, not the suite's PostgreSQL
    assert "collected and settled on" in done.stdout
    assert "pages answer on" in done.stdout and "told" in done.stdout
