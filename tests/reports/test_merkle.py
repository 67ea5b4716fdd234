import datetime as dt
import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apportionment import apportionment
from apportionment.models import Batch, Charge
from reports import merkle, services
from tests.apportionment.conftest import approved_claim, bulk_members, run_all_chunks
from tests.conftest import ROOT
from tests.factories import PoolFactory


def leaves(n, batch=7):
    return [merkle.leaf_hash(batch, i, 100 + i) for i in range(1, n + 1)]


def verify(proof: dict, root: str, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "verify_charge.py"), str(path), root],
        capture_output=True,
        text=True,
    )


def check(proof, root):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import verify_charge
    finally:
        sys.path.pop(0)
    return verify_charge.check(proof, root)


@pytest.mark.parametrize("n", range(1, 34))
def test_every_leaf_proves_against_the_streaming_root(n):
    items = leaves(n)
    root = merkle.streaming_root(items).hex()
    levels = merkle.build_levels(items)
    assert bytes(levels[-1]).hex() == root
    for index in range(n):
        proof = {
            "batch_id": 7,
            "membership_id": index + 1,
            "amount_cents": 101 + index,
            "path": merkle.audit_path(levels, index),
        }
        assert check(proof, root) == (True, "valid: this charge is included in the published batch")


def test_odd_level_promotes_the_last_node():
    a, b, c = leaves(3)
    assert merkle.streaming_root([a, b, c]) == merkle.node_hash(merkle.node_hash(a, b), c)


@pytest.mark.django_db
def test_published_batch_stores_its_root_and_proofs_verify(tmp_path, pool):
    bulk_members(pool, 12)
    claim = approved_claim(pool, 1_300)
    batch = run_all_chunks(apportionment.start_batch(pool))
    assert batch.merkle_root == services.compute_root(batch.pk) != ""
    bundle = services.proofs_for(batch, claim.claimant)
    assert len(bundle["proofs"]) == 1
    result = verify(bundle, batch.merkle_root, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout

    family = services.proofs_for(
        batch, pool.memberships.get(person__full_name="Bulk 1").person.account
    )
    assert len(family["proofs"]) == 12
    assert verify(family, batch.merkle_root, tmp_path).returncode == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper,reason",
    [
        (lambda p: p.update(amount_cents=p["amount_cents"] + 1), "leaf does not match"),
        (lambda p: p.update(membership_id=p["membership_id"] + 1), "leaf does not match"),
        (lambda p: p["path"][0].update(hash="00" * 32), "not to the published root"),
        (
            lambda p: (p.update(amount_cents=p["amount_cents"] + 1), p.pop("leaf")),
            "not to the published root",
        ),
    ],
)
def test_tampered_proofs_fail_and_say_why(tmp_path, pool, tamper, reason):
    bulk_members(pool, 6)
    claim = approved_claim(pool, 700)
    batch = run_all_chunks(apportionment.start_batch(pool))
    proof = services.proofs_for(batch, claim.claimant)["proofs"][0]
    tamper(proof)
    result = verify(proof, batch.merkle_root, tmp_path)
    assert result.returncode == 1 and reason in result.stdout


@pytest.mark.django_db
def test_verify_batch_detects_a_changed_charge(pool, capsys):
    bulk_members(pool, 5)
    approved_claim(pool, 600)
    batch = run_all_chunks(apportionment.start_batch(pool))
    call_command("verify_batch", str(batch.pk))
    assert "matches" in capsys.readouterr().out
    Charge.objects.filter(batch=batch).filter(
        pk=Charge.objects.filter(batch=batch).first().pk
    ).update(amount_cents=1)
    with pytest.raises(CommandError, match="MISMATCH"):
        call_command("verify_batch", str(batch.pk))


def root_tasks(callbacks):
    return [c for c in callbacks if c.__qualname__.startswith("on_batch_published")]


def test_root_is_stored_once_by_its_task_and_a_lost_task_is_sent_again(
    db, django_capture_on_commit_callbacks
):
    pool = PoolFactory(fee_rate_bp=0)
    bulk_members(pool, 3)
    approved_claim(pool, 400)
    batch = apportionment.start_batch(pool)
    with django_capture_on_commit_callbacks() as published:
        for chunk in batch.chunks.all():
            apportionment.run_chunk(chunk.pk)
    batch.refresh_from_db()
    assert batch.status == "published" and batch.merkle_root == ""
    assert len(root_tasks(published)) == 1  # enqueued once publication commits

    Batch.objects.filter(pk=batch.pk).update(published_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks() as resent:
        apportionment.sweep_stale_chunks()
    assert len(root_tasks(resent)) == 1  # the sweeper announces the rootless batch again

    root = services.store_root(batch.pk)
    assert root == services.compute_root(batch.pk) != ""
    Batch.objects.filter(pk=batch.pk).update(merkle_root="f" * 64)
    services.store_root(batch.pk)  # a second run changes nothing
    assert Batch.objects.get(pk=batch.pk).merkle_root == "f" * 64
