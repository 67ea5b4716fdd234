"""The embedded default of `bin/run` (SQLite and kombu's filesystem broker): the test suite runs
on PostgreSQL, so the batch engine's SQL is run here once on SQLite, in a process of its own."""

import os
import subprocess
import sys

from django.conf import settings

COLLECT_AND_SETTLE = """
from apportionment import apportionment
from apportionment.models import Batch, Charge, Chunk
from ledger.services import balances_match_entries, unbalanced_transactions
from members.services import top_up_wallet

batch = Batch.objects.get(status="published")  # the demo's batch, published by seed_demo
holders = sorted({charge.account for charge in Charge.objects.of_batch(batch.pk)}, key=str)
top_up_wallet(holders[0], 10_000_000)  # one wallet covers its charges, the others do not
apportionment.start_collection(batch)
for chunk_id in Chunk.objects.filter(batch=batch, phase="collect").values_list("pk", flat=True):
    apportionment.run_chunk(chunk_id)
batch.refresh_from_db()
assert batch.status == "paid_out", batch.status
assert Charge.objects.of_batch(batch.pk).filter(outstanding=True).exists()
for holder in holders[1:]:
    top_up_wallet(holder, 10_000_000)  # settles the unpaid charges (the retry path)
assert not Charge.objects.of_batch(batch.pk).filter(outstanding=True).exists()
assert not list(unbalanced_transactions()) and balances_match_entries()
from django.core.management import call_command
call_command("verify_books")  # the reserve is whole again, on SQLite too
print("collected and settled on", batch.pk)
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


def test_a_batch_is_published_collected_and_settled_on_the_embedded_default(tmp_path):
    for step in (
        ["migrate", "--verbosity", "0"],
        ["seed_demo"],
        ["shell", "-c", COLLECT_AND_SETTLE],
    ):
        done = manage(*step, var_dir=tmp_path)
        assert done.returncode == 0, f"{step[0]}: {done.stderr[-3000:]}"
    assert (tmp_path / "mutualaid.sqlite3").exists()  # SQLite, not the suite's PostgreSQL
    assert "collected and settled on" in done.stdout
