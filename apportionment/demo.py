"""Six months of history, made by the real engine: on each past publication day, the cases
approved by then are apportioned (published in chunks, collected from the wallets, paid out),
batch after batch, so the charges, caps, unpaid shares and suspensions are the engine's own.

Each batch's Merkle root is computed as in production: by the task that its publication
enqueues (after the demo commits, once a worker runs). The only things written by hand are
dates: a past case's approval time (it must fall before its batch's cut-off), a past batch's
publication, collection and payout times, and the membership changes of its collection.
"""

import datetime as dt

from django.utils import timezone

from apportionment import collection, engine, publishing
from apportionment.models import Batch, Chunk
from claims import demo as claim_demo
from members.models import Membership, MembershipStatusChange

ADULTS, SENIORS, CHILDREN = "critical-illness-adults", "cancer-seniors", "critical-illness-children"
HISTORY_DAYS = 183
# Per pool: which past batches (counted from the oldest) have cases, and their conditions. An
# adult case of ¥100,000 shared by 20,000 members comes to ¥5.40 each.
CASES = {
    ADULTS: {
        i: ["CI002", "CI003", "CI005", "CI016"][i % 4 : i % 4 + 1 + (i % 3 == 0)] for i in range(12)
    },
    SENIORS: {1: ["CI001"], 5: ["CI001"], 9: ["CI001"]},
    CHILDREN: {3: ["CI024"], 8: ["CI019"]},
}
PANEL_BATCH = 6  # the adult case of this batch was objected to and decided by a panel


def history_cutoffs(pool, now: dt.datetime) -> list[dt.datetime]:
    """The pool's publication days (00:00 UTC) of the last six months whose collection day
    (a week later) has passed, oldest first."""
    days = sorted(int(d) for d in pool.publish_days.split(",") if d.strip())
    today = now.date()
    cutoffs = []
    day = today - dt.timedelta(days=HISTORY_DAYS)
    while day <= today - dt.timedelta(days=7):
        if day.day in days:
            cutoffs.append(timezone.make_aware(dt.datetime.combine(day, dt.time()), dt.UTC))
        day += dt.timedelta(days=1)
    return cutoffs


def run_inline(batch: Batch, phase: str):
    """Run a batch's chunks here, one after another, as the workers would."""
    for chunk_id in batch.chunks.filter(phase=phase).values_list("pk", flat=True):
        engine.run_chunk(chunk_id)


def run_batch(pool, cutoff: dt.datetime, last: bool) -> Batch:
    """Publish, collect and pay out one batch at `cutoff`, then date its phases.

    The membership changes of a past collection (suspended, paid out) are dated on its
    collection day, so the next batch's participants at its cut-off are the engine's own
    answer; the last batch's stay dated today, so its suspensions are inside their retry window.
    """
    batch = publishing.start_batch(pool, cutoff=cutoff)
    if batch.status == Batch.Status.EMPTY:
        return batch
    run_inline(batch, Chunk.Phase.PUBLISH)
    batch.refresh_from_db()
    started = timezone.now()
    collection.start_collection(batch)
    run_inline(batch, Chunk.Phase.COLLECT)
    collected = cutoff + dt.timedelta(days=7)
    Batch.objects.filter(pk=batch.pk).update(
        published_at=cutoff, collected_at=collected, paid_out_at=collected
    )
    if not last:
        MembershipStatusChange.objects.filter(at__gte=started).update(at=collected)
        moved = Membership.objects.filter(status_changed_at__gte=started)
        moved.filter(suspended_since__isnull=False).update(suspended_since=collected.date())
        moved.filter(ended_at__isnull=False).update(ended_at=collected)
        moved.update(status_changed_at=collected)  # last: it is what selects these rows
    return batch


def seed(ctx):
    pools, users = ctx["pools"], ctx["users"]
    if Batch.objects.filter(pool__slug__in=CASES).exists():
        return
    taken = set(ctx["volunteers"])
    for index, cutoff in enumerate(ctx["cutoffs"]):
        for slug, cases in CASES.items():
            pool = pools[slug]
            filed = 0
            for n, code in enumerate(cases.get(index, [])):
                approved = cutoff - dt.timedelta(days=2, hours=n)
                covered_by = (approved - dt.timedelta(days=30)).date()
                # Adults over 40: a ¥100,000 case, shared by 20,000 members at ¥5.40 each.
                born_by = covered_by.replace(year=covered_by.year - 41, day=1)
                membership = claim_demo.free_membership(pool, taken, covered_by, born_by=born_by)
                if membership is None:
                    continue
                filed += 1
                taken.add(membership.person.account)
                if slug == ADULTS and index == PANEL_BATCH and n == 0:
                    claim_demo.panel_history_claim(membership, code, approved, ctx)
                else:
                    claim_demo.paid_history_claim(membership, code, approved, users)
            if filed:
                run_batch(pool, cutoff, last=index == len(ctx["cutoffs"]) - 1)
