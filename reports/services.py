"""Open books (SPEC 7): Merkle roots of batches, members' proofs, anonymized cases, charts."""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError

from apportionment.models import Batch, Charge
from claims.models import Claim
from mutualaid import pagecache
from mutualaid.pairkeys import pair_key
from mutualaid.templatetags.money import cents
from pools.models import Pool
from pools.names import province_name
from reports import charts, merkle

LEAF_CHUNK = 20_000

log = logging.getLogger(__name__)


def charge_leaves(batch_id: int):
    """Leaves in membership-id order, streamed from a server-side cursor."""
    rows = (
        Charge.objects.of_batch(batch_id)
        .order_by("pk")  # membership-id order within a batch
        .values_list("membership_id", "amount_cents")
        .iterator(chunk_size=LEAF_CHUNK)
    )
    for membership_id, amount in rows:
        yield merkle.leaf_hash(batch_id, membership_id, amount)


def compute_root(batch_id: int) -> str:
    root = merkle.streaming_root(charge_leaves(batch_id))
    return root.hex() if root else ""


def on_batch_published(sender=None, batch=None, **kwargs):
    """The root of a published batch's charges is computed by a task once publication commits:
    seconds of hashing at a million charges, kept out of the transaction that holds the batch.
    A lost task is enqueued again by apportionment's sweeper, which sends the signal again."""
    from reports.tasks import store_root_task

    def enqueue():
        try:
            store_root_task.delay(batch.pk)
        except OperationalError:
            log.warning("broker unreachable: the root of batch %s waits for the sweeper", batch.pk)

    transaction.on_commit(enqueue)


def store_root(batch_id: int) -> str:
    """Compute and store the root once; a task that runs twice changes nothing."""
    root = compute_root(batch_id)
    if Batch.objects.filter(pk=batch_id, merkle_root="").update(merkle_root=root):
        pagecache.bump(pagecache.MEMBERS, pagecache.REPORTS)  # the dashboards link the proofs
    return root


def proofs_for(batch: Batch, user) -> dict:
    """The caller's charges in the batch, each with its leaf and audit path."""
    mine = list(
        Charge.objects.of_account(user)
        .filter(batch=batch)
        .order_by("membership_id")
        .values_list("membership_id", "amount_cents")
    )
    proofs = []
    if mine:
        levels = merkle.build_levels(charge_leaves(batch.pk))
        for membership_id, amount in mine:
            before = pair_key(batch.pk, membership_id)
            index = Charge.objects.of_batch(batch.pk).filter(pk__lt=before).count()
            proofs.append(
                {
                    "batch_id": batch.pk,
                    "membership_id": membership_id,
                    "amount_cents": amount,
                    "leaf": merkle.leaf_hash(batch.pk, membership_id, amount).hex(),
                    "path": merkle.audit_path(levels, index),
                }
            )
    return {"batch_id": batch.pk, "merkle_root": batch.merkle_root, "proofs": proofs}


def age_band(age: int) -> str:
    low = age // 10 * 10
    return f"{low}–{low + 9}"


def anonymized_case(claim: Claim) -> dict:
    """What the public may see of a case: never a name, an identity number or a file."""
    person = claim.membership.person
    return {
        "id": claim.pk,
        "age_band": age_band(person.age_on(claim.diagnosis_date)),
        "sex": person.get_sex_display(),
        "province": province_name(claim.province),
        "condition": claim.condition.display_name,
        "payout_cents": claim.payout_cents,
        "summary": claim.investigation_report,
    }


def batch_cases(batch: Batch) -> list[dict]:
    claims = Claim.objects.filter(batch_claim__batch=batch).select_related(
        "membership__person", "condition"
    )
    return [anonymized_case(claim) for claim in claims]


def year_to_date_share(pool, public_batches, year: int) -> int:
    """What one member of the pool paid this year, at most: the sum of the base shares of its
    public batches (already loaded by the caller), cut by the annual cap."""
    total = sum(
        b.base_share_cents for b in public_batches if b.pool_id == pool.pk and b.cap_year == year
    )
    return min(total, pool.annual_cap_cents)


def overview(public_batches, year: int) -> list[dict]:
    """Per pool with public batches: its batches (newest first), charts of the share and the
    participants per batch, and what a member paid this year."""
    batches = list(public_batches.order_by("cutoff_at"))
    pools = []
    for pool in Pool.objects.order_by("pk"):
        own = [b for b in batches if b.pool_id == pool.pk]
        if not own:
            continue
        labels = [b.cutoff_at.strftime("%Y-%m-%d") for b in own]
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
            }
        )
    return pools
