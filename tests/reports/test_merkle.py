"""Summed, salted Merkle tree of a batch's charges (SPEC 7), proofs and the stand-alone check."""

import datetime as dt
import hashlib
import hmac
import json
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from apportionment import engine, publishing
from apportionment.models import Batch, Charge, RetiredMerkleRoot
from reports import merkle, services
from reports.models import MerkleBlock
from tests.apportionment.helpers import (
    approved_claim,
    bulk_members,
    collect,
    run_all_chunks,
    top_up,
)
from tests.conftest import ROOT
from tests.factories import PoolFactory

KEY = b"test-key"


def leaves(n, batch=7):
    return [merkle.leaf(batch, i, 100 + i, merkle.salt(KEY, batch, i)) for i in range(1, n + 1)]


def verify(proof: dict, root: str, total, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "verify_charge.py"), str(path), root, str(total)],
        capture_output=True,
        text=True,
    )


def check(proof, root, total):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import verify_charge
    finally:
        sys.path.pop(0)
    return verify_charge.check(proof, root, total)


def test_leaf_salt_and_node_follow_spec_7_to_the_byte():
    salt = hmac.new(KEY, b"7:42", hashlib.sha256).hexdigest()
    assert merkle.salt(KEY, 7, 42) == salt
    digest = hashlib.sha256(f"7|42|123|{salt}".encode()).digest()
    assert merkle.leaf(7, 42, 123, salt) == (digest, 123)
    other = (b"\x01" * 32, 77)
    text = f"{digest.hex()}|123|{'01' * 32}|77"
    assert merkle.node((digest, 123), other) == (hashlib.sha256(text.encode()).digest(), 200)


@pytest.mark.parametrize("key", [b"", KEY, b"k" * 64, b"long" * 40])
def test_the_fast_salter_is_the_hmac(key):
    salt_of = merkle.salter(key)
    for batch_id, membership_id in [(1, 1), (7, 42), (123456, 4_294_967_295)]:
        expected = hmac.new(key, f"{batch_id}:{membership_id}".encode(), hashlib.sha256)
        assert salt_of(batch_id, membership_id) == expected.hexdigest()
        assert merkle.salt(key, batch_id, membership_id) == expected.hexdigest()


@pytest.mark.parametrize("n", range(1, 34))
def test_every_leaf_proves_against_the_streaming_root_and_its_total(n):
    items = leaves(n)
    root_hash, root_sum = merkle.streaming_root(items)
    assert root_sum == sum(100 + i for i in range(1, n + 1))
    levels = merkle.build_levels(items)
    assert merkle.root_of(levels) == (root_hash, root_sum)
    for index in range(n):
        proof = {
            "batch_id": 7,
            "membership_id": index + 1,
            "amount_cents": 101 + index,
            "salt": merkle.salt(KEY, 7, index + 1),
            "path": merkle.audit_path(levels, index),
        }
        valid, reason = check(proof, root_hash.hex(), root_sum)
        assert valid, reason


@pytest.mark.parametrize("size", [1, 2, 4, 8, 16])
def test_blocks_give_the_same_root_and_the_same_paths_as_the_whole_tree(size):
    """Stored blocks are the tree's own nodes at their height, the last (short) one included."""
    for n in range(1, 70):
        items = leaves(n)
        blocks = list(merkle.block_roots(enumerate(items), size))
        assert [first for first, _ in blocks] == list(range(0, n, size))
        nodes = [node for _, node in blocks]
        assert merkle.streaming_root(nodes) == merkle.streaming_root(items)
        whole = merkle.build_levels(items)
        for index in range(n):
            position, start = divmod(index, size)[0], index - index % size
            block_leaves = items[start : start + size]
            assert merkle.blocked_path(
                merkle.build_levels(block_leaves),
                index - start,
                merkle.build_levels(nodes),
                position,
            ) == merkle.audit_path(whole, index), (n, index)


def test_odd_level_promotes_the_last_node():
    a, b, c = leaves(3)
    assert merkle.streaming_root([a, b, c]) == merkle.node(merkle.node(a, b), c)


@pytest.mark.django_db
def test_published_batch_stores_its_root_and_total_and_proofs_verify(tmp_path, pool):
    bulk_members(pool, 12)
    claim = approved_claim(pool, 1_300)
    batch = run_all_chunks(publishing.start_batch(pool))
    assert (batch.merkle_root, batch.merkle_total_cents) == services.compute_root(batch.pk)
    assert (
        batch.merkle_root and batch.merkle_total_cents == batch.amount_cents - batch.subsidy_cents
    )
    bundle = services.proofs_for(batch, claim.claimant)
    assert len(bundle["proofs"]) == 1 and bundle["merkle_total_cents"] == batch.merkle_total_cents
    result = verify(bundle, batch.merkle_root, batch.merkle_total_cents, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout

    family = services.proofs_for(
        batch, pool.memberships.get(person__full_name="Bulk 1").person.account
    )
    assert len(family["proofs"]) == 12
    assert verify(family, batch.merkle_root, batch.merkle_total_cents, tmp_path).returncode == 0


@pytest.mark.django_db
def test_a_proofs_siblings_match_no_charge_of_the_batch_nor_a_guess(pool):
    """The old tree's first sibling was SHA-256 of another member's batch|membership|amount:
    guessing ids found it. Salted, no sibling matches any such text, not even one built from
    the batch's real charges."""
    bulk_members(pool, 40)
    claim = approved_claim(pool, 4_100)
    batch = run_all_chunks(publishing.start_batch(pool))
    proof = services.proofs_for(batch, claim.claimant)["proofs"][0]
    siblings = {step["hash"] for step in proof["path"]}
    assert siblings
    real = Charge.objects.filter(batch=batch).values_list("membership_id", "amount_cents")
    guesses = {
        hashlib.sha256(f"{batch.pk}|{membership}|{amount}".encode()).hexdigest()
        for membership, amount in real
    } | {
        hashlib.sha256(f"{batch.pk}|{membership}|{amount}".encode()).hexdigest()
        for membership in range(1, 5_000)
        for amount in (batch.base_share_cents, batch.base_share_cents + 1)
    }
    assert not siblings & guesses
    text = json.dumps(proof["path"])
    others = [m for m, _a in real if m != claim.membership_id]
    assert not any(f'"{m}"' in text or f": {m}," in text for m in others if m > 10**3)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper,reason",
    [
        (lambda p: p.update(amount_cents=p["amount_cents"] + 1), "leaf does not match"),
        (lambda p: p.update(membership_id=p["membership_id"] + 1), "leaf does not match"),
        (lambda p: p.update(salt="0" * 64), "leaf does not match"),
        (lambda p: p["path"][0].update(hash="00" * 32), "not to the published root"),
        (lambda p: p["path"][0].update(sum=p["path"][0]["sum"] + 1), "not to the published root"),
        (lambda p: p["path"][-1].update(sum=p["path"][-1]["sum"] - 1), "not to the published root"),
        (lambda p: p["path"][0].update(sum=-5), "non-negative"),
        (
            lambda p: (p.update(amount_cents=p["amount_cents"] + 1), p.pop("leaf")),
            "not to the published root",
        ),
    ],
)
def test_tampered_proofs_fail_and_say_why(tmp_path, pool, tamper, reason):
    bulk_members(pool, 6)
    claim = approved_claim(pool, 700)
    batch = run_all_chunks(publishing.start_batch(pool))
    proof = services.proofs_for(batch, claim.claimant)["proofs"][0]
    assert verify(proof, batch.merkle_root, batch.merkle_total_cents, tmp_path).returncode == 0
    tamper(proof)
    result = verify(proof, batch.merkle_root, batch.merkle_total_cents, tmp_path)
    assert result.returncode == 1 and reason in result.stdout, result.stdout


@pytest.mark.django_db
def test_a_wrong_published_total_is_rejected(tmp_path, pool):
    bulk_members(pool, 6)
    claim = approved_claim(pool, 700)
    batch = run_all_chunks(publishing.start_batch(pool))
    proof = services.proofs_for(batch, claim.claimant)
    for total in (batch.merkle_total_cents + 1, batch.merkle_total_cents - 1):
        result = verify(proof, batch.merkle_root, total, tmp_path)
        assert result.returncode == 1 and "not to the published total" in result.stdout
    assert verify(proof, batch.merkle_root, "ten", tmp_path).returncode == 2


@pytest.mark.django_db
def test_the_salt_key_is_a_setting(pool, settings):
    bulk_members(pool, 3)
    approved_claim(pool, 400)
    batch = run_all_chunks(publishing.start_batch(pool))
    settings.PROOF_SALT_KEY = "another-key"
    root, total = services.compute_root(batch.pk)
    assert root != batch.merkle_root and total == batch.merkle_total_cents


@pytest.mark.django_db
def test_verify_batch_detects_a_changed_charge_and_a_wrong_total(pool, capsys):
    bulk_members(pool, 5)
    approved_claim(pool, 600)
    batch = run_all_chunks(publishing.start_batch(pool))
    call_command("verify_batch", str(batch.pk))
    assert "match its charges" in capsys.readouterr().out
    Batch.objects.filter(pk=batch.pk).update(merkle_total_cents=batch.merkle_total_cents + 1)
    with pytest.raises(CommandError, match="MISMATCH"):
        call_command("verify_batch", str(batch.pk))
    Batch.objects.filter(pk=batch.pk).update(merkle_total_cents=batch.merkle_total_cents)
    charge = Charge.objects.filter(batch=batch).first()
    Charge.objects.filter(pk=charge.pk).update(amount_cents=charge.amount_cents + 1)
    with pytest.raises(CommandError, match="MISMATCH"):
        call_command("verify_batch", str(batch.pk))
    services.recompute_root(batch, "a test moved a cent")  # root and total agree again ...
    with pytest.raises(CommandError, match="A - S"):  # ... but no longer with the batch
        call_command("verify_batch", str(batch.pk))


@pytest.mark.django_db
def test_old_roots_are_recomputed_and_kept_in_the_batch_history(pool, capsys):
    bulk_members(pool, 5)
    approved_claim(pool, 600)
    batch = run_all_chunks(publishing.start_batch(pool))
    new_root = batch.merkle_root
    old_root = hashlib.sha256(b"a root of the unsummed tree").hexdigest()
    Batch.objects.filter(pk=batch.pk).update(merkle_root=old_root, merkle_total_cents=None)
    with pytest.raises(CommandError, match="recompute_merkle_roots"):
        call_command("verify_batch", str(batch.pk))

    call_command("recompute_merkle_roots")
    batch.refresh_from_db()
    assert batch.merkle_root == new_root
    assert batch.merkle_total_cents == batch.amount_cents - batch.subsidy_cents
    retired = RetiredMerkleRoot.objects.get(batch=batch)
    assert retired.merkle_root == old_root and retired.merkle_total_cents is None
    call_command("verify_batch", str(batch.pk))
    call_command("recompute_merkle_roots")  # nothing left to do: no second history row
    assert RetiredMerkleRoot.objects.filter(batch=batch).count() == 1
    assert "0 root(s) recomputed" in capsys.readouterr().out


def root_tasks(callbacks):
    return [c for c in callbacks if c.__qualname__.startswith("on_batch_published")]


def test_root_is_stored_once_by_its_task_and_a_lost_task_is_sent_again(
    db, django_capture_on_commit_callbacks
):
    pool = PoolFactory(fee_rate_bp=0)
    bulk_members(pool, 3)
    approved_claim(pool, 400)
    batch = publishing.start_batch(pool)
    with django_capture_on_commit_callbacks() as published:
        for chunk in batch.chunks.all():
            engine.run_chunk(chunk.pk)
    batch.refresh_from_db()
    assert batch.status == "published" and batch.merkle_root == ""
    assert len(root_tasks(published)) == 1  # enqueued once publication commits

    Batch.objects.filter(pk=batch.pk).update(published_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks() as resent:
        engine.sweep_stale_chunks()
    assert len(root_tasks(resent)) == 1  # the sweeper announces the rootless batch again

    root = services.store_root(batch.pk)
    assert root == services.compute_root(batch.pk)[0] != ""
    Batch.objects.filter(pk=batch.pk).update(merkle_root="f" * 64)
    services.store_root(batch.pk)  # a second run changes nothing
    assert Batch.objects.get(pk=batch.pk).merkle_root == "f" * 64


@pytest.mark.django_db
def test_proofs_read_each_block_once_and_verify_across_block_edges(
    pool, django_assert_max_num_queries
):
    """2,100 charges of one family make three blocks of 1,024, 1,024 and 52: its 2,100 proofs
    read each block once (the queries do not grow with the family) and all verify, on every
    edge of every block."""
    family = bulk_members(pool, merkle.BLOCK * 2 + 51)
    claim = approved_claim(pool, 21_000)
    batch = run_all_chunks(publishing.start_batch(pool))
    blocks = MerkleBlock.objects.filter(batch=batch).order_by("position")
    assert [b.position for b in blocks] == [0, 1, 2]
    assert sum(b.sum_cents for b in blocks) == batch.merkle_total_cents
    with django_assert_max_num_queries(5):  # charges, blocks, and one read per block
        bundle = services.proofs_for(batch, family)
    assert len(bundle["proofs"]) == merkle.BLOCK * 2 + 51
    for proof in bundle["proofs"]:
        assert check(proof, batch.merkle_root, batch.merkle_total_cents)[0], proof["membership_id"]
    with django_assert_max_num_queries(3):
        (proof,) = services.proofs_for(batch, claim.claimant)["proofs"]
    assert check(proof, batch.merkle_root, batch.merkle_total_cents)[0]


@pytest.mark.django_db
def test_nothing_is_proved_or_hashed_before_the_root_is_stored(pool):
    """Between publication and the root's task a proof would have no root to check against,
    and filling the blocks in the request would hash the whole batch under its row lock."""
    bulk_members(pool, 5)
    claim = approved_claim(pool, 600)
    batch = publishing.start_batch(pool)
    for chunk_id in list(batch.chunks.values_list("pk", flat=True)):
        engine.run_chunk(chunk_id)
    batch.refresh_from_db()
    assert batch.status == "published" and batch.merkle_root == ""
    assert services.proofs_for(batch, claim.claimant)["proofs"] == []
    assert not MerkleBlock.objects.filter(batch=batch).exists()


@pytest.mark.django_db
def test_recompute_all_keeps_the_root_of_an_archived_batch(pool, settings, tmp_path):
    """Its charges are in the archive file: recomputing from the empty database would publish
    an empty root in place of the real one."""
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    bulk_members(pool, 7)
    approved_claim(pool, 10_000)
    batch = run_all_chunks(publishing.start_batch(pool))
    for account_id in set(Charge.objects.of_batch(batch.pk).values_list("account_id", flat=True)):
        top_up(get_user_model().objects.get(pk=account_id), 100_000)
    batch = collect(batch)
    Batch.objects.filter(pk=batch.pk).update(cutoff_at=timezone.now() - dt.timedelta(days=400))
    call_command("archive_batches", "--before", str(timezone.localdate()))
    batch.refresh_from_db()
    assert batch.archived_at
    root, total = batch.merkle_root, batch.merkle_total_cents
    call_command("recompute_merkle_roots", "--all")
    assert services.recompute_root(batch, "by hand") is False
    batch.refresh_from_db()
    assert (batch.merkle_root, batch.merkle_total_cents) == (root, total)
    assert not RetiredMerkleRoot.objects.filter(batch=batch).exists()


@pytest.mark.django_db
def test_a_batch_rooted_before_blocks_existed_gets_them_at_its_first_proof(pool):
    bulk_members(pool, 9)
    claim = approved_claim(pool, 900)
    batch = run_all_chunks(publishing.start_batch(pool))
    MerkleBlock.objects.filter(batch=batch).delete()
    proof = services.proofs_for(batch, claim.claimant)["proofs"][0]
    assert check(proof, batch.merkle_root, batch.merkle_total_cents)[0]
    assert MerkleBlock.objects.filter(batch=batch).count() == 1
    services.proofs_for(batch, claim.claimant)  # a second proof adds none
    assert MerkleBlock.objects.filter(batch=batch).count() == 1


@pytest.mark.django_db
def test_bench_merkle_prints_the_root_and_a_proof_from_the_blocks(capsys):
    call_command("bench_merkle", "--charges", "3000")
    out = capsys.readouterr().out
    assert "root with its 3 blocks of 1,024" in out and "proof from the blocks (12 steps)" in out


@pytest.mark.django_db
def test_recompute_all_stores_the_blocks_of_a_batch_rooted_before_them(pool):
    bulk_members(pool, 5)
    approved_claim(pool, 600)
    batch = run_all_chunks(publishing.start_batch(pool))
    MerkleBlock.objects.filter(batch=batch).delete()
    call_command("recompute_merkle_roots", "--all")
    assert MerkleBlock.objects.filter(batch=batch).count() == 1
    assert RetiredMerkleRoot.objects.filter(batch=batch).count() == 0  # the root is unchanged
