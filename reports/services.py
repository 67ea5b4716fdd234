"""Open books (SPEC 7): Merkle roots of batches, members' proofs, anonymized cases, charts."""

import bisect
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from apportionment.models import Batch, Charge, RetiredMerkleRoot
from claims.anonymized import anonymized_case
from claims.models import Claim
from mutualaid import pagecache
from mutualaid.pairkeys import pair_key
from mutualaid.templatetags.money import cents
from pools.models import Pool
from reports import charts, forecast, merkle
from reports.models import MerkleBlock

LEAF_CHUNK = 20_000

log = logging.getLogger(__name__)


def salt_key() -> bytes:
    return settings.PROOF_SALT_KEY.encode()


def keyed_leaves(batch_id: int, charges: Iterable[tuple[int, int]]):
    """(membership id, leaf) for a batch's (membership id, amount) pairs, given in
    membership-id order: from the database, or from an archive file (apportionment.archive)."""
    salt = merkle.salter(salt_key())
    for membership_id, amount in charges:
        yield (
            membership_id,
            merkle.leaf(batch_id, membership_id, amount, salt(batch_id, membership_id)),
        )


def leaves(batch_id: int, charges: Iterable[tuple[int, int]]):
    return (leaf for _, leaf in keyed_leaves(batch_id, charges))


def charge_rows(batch_id: int, after: int = 0, limit: int | None = None):
    """(membership id, amount) in membership-id order, streamed from a server-side cursor."""
    rows = (
        Charge.objects.of_batch(batch_id)
        .filter(pk__gte=pair_key(batch_id, after))
        .order_by("pk")  # membership-id order within a batch
        .values_list("membership_id", "amount_cents")
    )
    return rows[:limit] if limit else rows.iterator(chunk_size=LEAF_CHUNK)


def root_and_total(tree_leaves) -> tuple[str, int]:
    """(root hash as hex, the sum it carries); ("", 0) when there is no leaf."""
    root = merkle.streaming_root(tree_leaves)
    return (root[0].hex(), root[1]) if root else ("", 0)


def compute_blocks(batch_id: int) -> list[MerkleBlock]:
    """The batch's blocks from its charges, in one pass; the tree over them has the root."""
    blocks = merkle.block_roots(keyed_leaves(batch_id, charge_rows(batch_id)))
    return [
        MerkleBlock(
            batch_id=batch_id,
            position=position,
            first_membership_id=first,
            digest=digest,
            sum_cents=total,
        )
        for position, (first, (digest, total)) in enumerate(blocks)
    ]


def root_of_blocks(blocks: list[MerkleBlock]) -> tuple[str, int]:
    return root_and_total((bytes(block.digest), block.sum_cents) for block in blocks)


def compute_root(batch_id: int) -> tuple[str, int]:
    return root_of_blocks(compute_blocks(batch_id))


def write_blocks(batch_id: int, blocks: list[MerkleBlock]):
    MerkleBlock.objects.filter(batch_id=batch_id).delete()
    MerkleBlock.objects.bulk_create(blocks, batch_size=2_000)


def store_root(batch_id: int) -> str:
    """Compute and store the root, its sum and its blocks once; a task that runs twice changes
    nothing. The charges are read outside the transaction: at ten million they take a minute
    or two, and the batch's row stays free for collection meanwhile."""
    blocks = compute_blocks(batch_id)
    root, total = root_of_blocks(blocks)
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.merkle_root:
            return batch.merkle_root
        write_blocks(batch_id, blocks)
        Batch.objects.filter(pk=batch_id).update(merkle_root=root, merkle_total_cents=total)
    pagecache.bump(pagecache.MEMBERS, pagecache.REPORTS)  # the dashboards link the proofs
    return root


@transaction.atomic
def recompute_root(batch: Batch, reason: str) -> bool:
    """Replace a batch's published root by the one its charges give under today's tree rules
    (and salt key), keeping the old root in the batch's history. Returns whether it changed."""
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    blocks = compute_blocks(batch.pk)
    if batch.archived_at or (batch.participants and not blocks):
        # Its charges are in an archive file (or missing): the published root stands.
        log.warning("batch %s: no charges in the database, its root is kept", batch.pk)
        return False
    root, total = root_of_blocks(blocks)
    write_blocks(batch.pk, blocks)
    if (batch.merkle_root, batch.merkle_total_cents) == (root, total):
        return False
    if batch.merkle_root:
        RetiredMerkleRoot.objects.create(
            batch=batch,
            merkle_root=batch.merkle_root,
            merkle_total_cents=batch.merkle_total_cents,
            reason=reason[:200],
        )
    Batch.objects.filter(pk=batch.pk).update(merkle_root=root, merkle_total_cents=total)
    pagecache.bump(pagecache.MEMBERS, pagecache.REPORTS)
    return True


Block = tuple[int, bytes, int]  # (membership id of its first charge, digest, sum)


def _as_blocks(rows) -> list[Block]:
    return [(first, bytes(digest), total) for first, digest, total in rows]


def _blocks_of(batch: Batch) -> list[Block]:
    return _as_blocks(
        MerkleBlock.objects.filter(batch=batch)
        .order_by("position")
        .values_list("first_membership_id", "digest", "sum_cents")
    )


def stored_blocks(batch: Batch) -> list[Block]:
    """Every block of the batch, in order, read once: the proofs find their block in this
    list, so a replica that has not replayed the blocks yet cannot answer half a proof.

    A batch rooted before blocks were stored gets them at its first proof: computed once,
    under the batch's row lock, so that the members asking at the same moment wait for that
    one computation instead of each hashing the whole batch (`recompute_merkle_roots --all`
    stores them for every batch ahead of time)."""
    blocks = _blocks_of(batch)
    if blocks:
        return blocks
    with transaction.atomic():  # reads in here are on the primary
        Batch.objects.select_for_update().get(pk=batch.pk)
        blocks = _blocks_of(batch)
        if not blocks:
            computed = compute_blocks(batch.pk)
            if root_of_blocks(computed) != (batch.merkle_root, batch.merkle_total_cents):
                log.warning("batch %s: its charges no longer give its published root", batch.pk)
            write_blocks(batch.pk, computed)
            blocks = _as_blocks((b.first_membership_id, b.digest, b.sum_cents) for b in computed)
    return blocks


def proofs_for(batch: Batch, user) -> dict:
    """The caller's charges in the batch, each with its salt, leaf and audit path (siblings'
    hashes and sums only: no other member's id or amount).

    Nothing is proved before the root is published (a proof needs a root to check against,
    and the root's task computes the blocks). Each block holding one of the caller's charges is
    read and hashed once, however many of their memberships it holds."""
    bundle = {
        "batch_id": batch.pk,
        "merkle_root": batch.merkle_root,
        "merkle_total_cents": batch.merkle_total_cents,
        "proofs": [],
    }
    if not batch.merkle_root:
        return bundle
    mine = list(
        Charge.objects.of_batch(batch.pk)  # the batch's partition only
        .filter(account=user)
        .order_by("membership_id")
        .values_list("membership_id", "amount_cents")
    )
    if not mine:
        return bundle
    blocks = stored_blocks(batch)
    firsts = [first for first, _, _ in blocks]
    upper = merkle.build_levels((digest, total) for _, digest, total in blocks)
    by_block: dict[int, list[tuple[int, int]]] = {}
    for membership_id, amount in mine:
        by_block.setdefault(bisect.bisect_right(firsts, membership_id) - 1, []).append(
            (membership_id, amount)
        )
    key = salt_key()
    for position, charges in sorted(by_block.items()):
        keyed = (
            list(keyed_leaves(batch.pk, charge_rows(batch.pk, firsts[position], merkle.BLOCK)))
            if position >= 0
            else []
        )
        index_of = {membership_id: i for i, (membership_id, _) in enumerate(keyed)}
        levels = merkle.build_levels(leaf for _, leaf in keyed)
        for membership_id, amount in charges:
            index = index_of.get(membership_id)
            if index is None:  # blocks older than the charges: recompute_root rewrites them
                log.warning("batch %s: membership %s is in no block", batch.pk, membership_id)
                continue
            bundle["proofs"].append(
                {
                    "batch_id": batch.pk,
                    "membership_id": membership_id,
                    "amount_cents": amount,
                    "salt": merkle.salt(key, batch.pk, membership_id),
                    "leaf": keyed[index][1][0].hex(),
                    "path": merkle.blocked_path(levels, index, upper, position),
                }
            )
    return bundle


def batch_cases(batch: Batch) -> list[dict]:
    """The cases the batch's charges paid for (P)."""
    return cases_by_payer(batch)[0]


def cases_by_payer(batch: Batch) -> tuple[list[dict], list[dict]]:
    """(the cases the members paid for, the sponsored schemes' cases the sponsor paid), in
    one query: the report lists them apart (SPEC 11)."""
    claims = (
        Claim.objects.filter(Q(batch_claim__batch=batch) | Q(scheme_payout__batch=batch))
        .select_related("membership__person", "condition", "pool")
        .order_by("pk")
    )
    cases, sponsored = [], []
    for claim in claims:
        (sponsored if claim.scheme_id else cases).append(anonymized_case(claim))
    return cases, sponsored


def year_to_date_share(pool, public_batches, year: int) -> int:
    """What one member of the pool paid this year, at most: the sum of the base shares of its
    public batches (already loaded by the caller), cut by the annual cap."""
    total = sum(
        b.base_share_cents for b in public_batches if b.pool_id == pool.pk and b.cap_year == year
    )
    return min(total, pool.annual_cap_cents)


def overview(public_batches, year: int) -> list[dict]:
    """Per pool with public batches: its batches (newest first), charts of the share and the
    participants per batch, what a member paid this year, the forecast of the next share and
    the past forecasts against the actual shares (with a chart of their error)."""
    batches = list(public_batches.order_by("cutoff_at"))
    shown = [p for p in Pool.objects.order_by("pk") if any(b.pool_id == p.pk for b in batches)]
    forecasts = forecast.forecasts(shown)
    history = forecast.forecast_history([pool.pk for pool in shown])
    pools = []
    for pool in shown:
        own = [b for b in batches if b.pool_id == pool.pk]
        labels = [b.cutoff_at.strftime("%Y-%m-%d") for b in own]
        past = history[pool.pk]
        pools.append(
            {
                "pool": pool,
                "batches": list(reversed(own)),
                "share_chart": charts.bars(
                    list(zip(labels, [b.base_share_cents for b in own], strict=True)), cents
                ),
                "members_chart": charts.line(
                    list(zip(labels, [b.participants for b in own], strict=True))
                ),
                "ytd": year_to_date_share(pool, own, year),
                "year": year,
                "forecast": forecasts[pool.pk],
                "past_forecasts": list(reversed(past)),
                "error_chart": charts.bars(
                    [(f.batch.cutoff_at.strftime("%Y-%m-%d"), f.error_cents) for f in past], cents
                ),
            }
        )
    return pools
