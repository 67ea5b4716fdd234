"""The share rule of SPEC 6, run through the real SQL on PostgreSQL."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apportionment import figures, odd_cent, publishing
from apportionment.models import Batch, Charge, OddCentCandidate
from claims.models import Claim
from tests.apportionment.helpers import approved_claim, bulk_members, run_all_chunks
from tests.factories import MembershipFactory, PoolFactory


def charges_of(batch):
    return dict(Charge.objects.filter(batch=batch).values_list("membership_id", "amount_cents"))


@pytest.mark.django_db
def test_batch_splits_payouts_plus_fee_to_the_cent(pool):
    bulk_members(pool, 997)
    approved_claim(pool, 30_000_000)
    approved_claim(pool, 10_000_000)
    batch = run_all_chunks(publishing.start_batch(pool, chunk_size=100))

    assert batch.status == Batch.Status.PUBLISHED, batch.message
    assert batch.payouts_cents == 40_000_000
    assert batch.fee_cents == 3_200_000  # 8 %
    assert batch.participants == 999  # 997 + the two claimants
    charges = charges_of(batch)
    assert len(charges) == 999 and batch.chunks.count() == 10
    # 43,200,000 / 999 = 43,243 remainder 243; the cap (188.00) cuts every share to 18,800
    assert batch.base_share_cents == 43_243 and batch.remainder_cents == 243
    assert set(charges.values()) == {18_800}
    assert sum(charges.values()) + batch.subsidy_cents == batch.amount_cents
    assert Claim.objects.filter(status=Claim.Status.APPORTIONED).count() == 2


@pytest.mark.django_db
def test_a_charges_key_is_its_batch_and_membership(pool):
    """The primary key is the unique key (batch, membership): the database refuses a second
    charge of a membership in a batch, and an id that is not the pair."""
    bulk_members(pool, 5)
    approved_claim(pool, 1_000)
    batch = run_all_chunks(publishing.start_batch(pool, chunk_size=2))
    charge = Charge.objects.of_batch(batch.pk).order_by("pk").first()
    assert charge.pk == (batch.pk << 32) + charge.membership_id
    assert Charge.objects.of_batch(batch.pk).count() == batch.participants == 6
    assert Charge.objects.of_batch(batch.pk + 1).count() == 0

    def another(**fields):
        values = {"batch_id": batch.pk, "membership_id": charge.membership_id, "amount_cents": 1}
        with pytest.raises(IntegrityError), transaction.atomic():
            Charge.objects.create(account_id=charge.account_id, **{**values, **fields})

    another()  # the same membership in the same batch
    another(id=charge.pk + 1)  # an id that is not (batch, membership)
    another(membership_id=-1, id=(batch.pk << 32) - 1)  # outside the membership half of the key


@pytest.mark.parametrize("stray_cents", [0, 1])
@pytest.mark.django_db
def test_a_charge_the_chunks_did_not_write_fails_the_batch(pool, stray_cents):
    """The invariant reads the batch's rows, not what its chunks say they wrote: a charge
    that got into the batch's table some other way, even of 0.00, stops the publication."""
    bulk_members(pool, 5)
    approved_claim(pool, 1_000)
    outsider = MembershipFactory(pool=PoolFactory())
    batch = publishing.start_batch(pool, chunk_size=2)
    Charge.objects.create(
        id=(batch.pk << 32) + outsider.pk,
        batch=batch,
        membership=outsider,
        account_id=outsider.person.account_id,
        amount_cents=stray_cents,
    )
    batch = run_all_chunks(batch)
    assert batch.status == Batch.Status.FAILED
    assert f"{batch.participants + 1} charges for {batch.participants} participants" in (
        batch.message
    )
    assert not Claim.objects.filter(status=Claim.Status.APPORTIONED).exists()


@pytest.mark.django_db
def test_odd_cents_go_to_the_smallest_hashes(pool):
    bulk_members(pool, 50)
    approved_claim(pool, 1_000)  # A = 1,000 + 80 = 1,080 over 51: base 21, remainder 9
    batch = run_all_chunks(publishing.start_batch(pool, chunk_size=7))
    charges = charges_of(batch)
    assert (batch.base_share_cents, batch.remainder_cents) == (21, 9)
    by_hash = sorted(charges, key=lambda m: (odd_cent.odd_cent_hash(batch.pk, m), m))
    assert {m for m, amount in charges.items() if amount == 22} == set(by_hash[:9])
    assert sum(charges.values()) == 1_080


@pytest.mark.django_db
@pytest.mark.parametrize("band_width", [None, 0, 3])
def test_chunks_leave_the_odd_cent_band_to_the_last_step(pool, monkeypatch, band_width):
    """Chunks give the odd cent below the band and write candidates inside it; the cut is
    settled when they are done. A band that misses the cut (width 0 always does) makes the
    chunks run again with the exact cut: the result is the same."""
    if band_width is not None:
        monkeypatch.setattr(odd_cent, "odd_cent_band_width", lambda participants: band_width)
    bulk_members(pool, 599)
    approved_claim(pool, 100_000)
    approved_claim(pool, 444)  # A = 100,444 + 8,036 fee = 108,480 over 601: base 180, r 300
    batch = run_all_chunks(publishing.start_batch(pool, chunk_size=100))

    assert batch.status == Batch.Status.PUBLISHED, batch.message
    assert (batch.participants, batch.base_share_cents, batch.remainder_cents) == (601, 180, 300)
    charges = charges_of(batch)
    by_hash = sorted(charges, key=lambda m: (odd_cent.odd_cent_hash(batch.pk, m), m))
    assert {m for m, amount in charges.items() if amount == 181} == set(by_hash[:300])
    assert (bytes(batch.odd_cent_hash), batch.odd_cent_membership_id) == (
        odd_cent.odd_cent_hash(batch.pk, by_hash[299]),
        by_hash[299],
    )
    assert not OddCentCandidate.objects.exists()
    odd_cents_in_chunks = sum(batch.chunks.values_list("odd_cents", flat=True))
    if band_width is None:  # the default band holds the cut: one run of 7 chunks
        assert 0 < odd_cents_in_chunks < 300 and set(
            batch.chunks.values_list("attempts", flat=True)
        ) == {1}
    if band_width == 0:  # missed: the chunks ran again, with the exact cut
        assert odd_cents_in_chunks == 300 and set(
            batch.chunks.values_list("attempts", flat=True)
        ) == {2}


@pytest.mark.django_db
def test_odd_cents_move_between_batches(pool):
    bulk_members(pool, 40)
    approved_claim(pool, 1_000)
    first = run_all_chunks(publishing.start_batch(pool))
    approved_claim(pool, 1_000)
    second = run_all_chunks(publishing.start_batch(pool))
    odd = [
        {m for m, a in charges_of(b).items() if a == b.base_share_cents + 1}
        for b in (first, second)
    ]
    assert odd[0] and odd[1] and odd[0] != odd[1]


@pytest.mark.django_db
def test_annual_cap_counts_earlier_batches_and_feeds_the_subsidy(pool):
    pool.annual_cap_cents = 100
    pool.save()
    bulk_members(pool, 9)
    approved_claim(pool, 600)  # 648 over 10: 64 or 65 each
    first = run_all_chunks(publishing.start_batch(pool))
    assert first.subsidy_cents == 0
    approved_claim(pool, 600)  # 648 over 11 (a new claimant): at most 100 - 65 left each
    second = run_all_chunks(publishing.start_batch(pool))
    paid = (
        Charge.objects.filter(batch__pool=pool)
        .values("membership_id")
        .annotate(total=Sum("amount_cents"))
    )
    assert max(row["total"] for row in paid) <= 100
    assert second.subsidy_cents > 0
    total = Charge.objects.filter(batch=second).aggregate(s=Sum("amount_cents"))["s"]
    assert total + second.subsidy_cents == second.amount_cents


@pytest.mark.django_db
def test_no_claims_gives_an_empty_batch_with_a_message(pool):
    bulk_members(pool, 3)
    batch = publishing.start_batch(pool)
    assert batch.status == Batch.Status.EMPTY
    assert "No approved claims" in batch.message
    assert not Charge.objects.filter(batch=batch).exists()


@pytest.mark.django_db
def test_no_participants_gives_an_empty_batch_and_keeps_the_claims(pool):
    claim = approved_claim(pool, 5_000)
    claim.membership.status = "withdrawn"
    claim.membership.status_changed_at = timezone.now() - dt.timedelta(days=30)
    claim.membership.ended_at = claim.membership.status_changed_at
    claim.membership.save()
    batch = publishing.start_batch(pool)
    assert batch.status == Batch.Status.EMPTY and "nobody to charge" in batch.message
    assert not batch.batch_claims.exists()


@pytest.mark.django_db
def test_participants_are_those_of_the_cutoff(pool):
    """A member who withdrew after T still owes; one who joined after T does not."""
    cutoff = timezone.now() - dt.timedelta(hours=1)
    approved_claim(pool, 1_000, approved_at=cutoff - dt.timedelta(days=1))
    family = bulk_members(pool, 4)
    leaver = pool.memberships.filter(person__relationship="child").first()
    from members.models import MembershipStatusChange

    MembershipStatusChange.objects.create(
        membership=leaver, from_status="active", to_status="withdrawn", cause="t", at=timezone.now()
    )
    pool.memberships.filter(pk=leaver.pk).update(
        status="withdrawn", status_changed_at=timezone.now(), ended_at=timezone.now()
    )
    late = bulk_members(pool, 1)
    pool.memberships.filter(person__account=late).update(joined_at=timezone.now())
    # Suspended at T, reinstated since: active today, not a participant at T.
    returned = pool.memberships.exclude(pk=leaver.pk).filter(person__account=family).last()
    MembershipStatusChange.objects.create(
        membership=returned,
        from_status="suspended",
        to_status="active",
        cause="t",
        at=timezone.now(),
    )
    pool.memberships.filter(pk=returned.pk).update(status_changed_at=timezone.now())
    # Withdrawn before T: not a participant either.
    gone = bulk_members(pool, 1)
    pool.memberships.filter(person__account=gone).update(
        status="withdrawn",
        status_changed_at=cutoff - dt.timedelta(days=1),
        ended_at=cutoff - dt.timedelta(days=1),
    )
    batch = run_all_chunks(publishing.start_batch(pool, cutoff))
    members = charges_of(batch)
    assert leaver.pk in members
    assert returned.pk not in members
    assert not pool.memberships.filter(person__account=late, pk__in=members).exists()
    assert not pool.memberships.filter(person__account=gone, pk__in=members).exists()
    assert batch.participants == 4


def test_preview_writes_nothing(pool):
    bulk_members(pool, 10)
    approved_claim(pool, 2_000)
    preview = figures.preview(pool)
    assert preview["participants"] == 11 and preview["amount_cents"] == 2_160
    assert preview["base_share_cents"] == 196 and preview["remainder_cents"] == 4
    assert not Batch.objects.exists()


test_preview_writes_nothing = pytest.mark.django_db(test_preview_writes_nothing)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    members=st.integers(min_value=1, max_value=60),
    payouts=st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=1, max_size=3),
    fee_bp=st.integers(min_value=0, max_value=2_000),
    cap=st.integers(min_value=0, max_value=50_000),
    chunk=st.integers(min_value=1, max_value=25),
)
def test_property_charges_plus_subsidy_equal_the_amount(members, payouts, fee_bp, cap, chunk):
    pool = PoolFactory(fee_rate_bp=fee_bp, annual_cap_cents=cap)
    bulk_members(pool, members)
    for payout in payouts:
        approved_claim(pool, payout)
    batch = run_all_chunks(publishing.start_batch(pool, chunk_size=chunk))
    assert batch.status == Batch.Status.PUBLISHED, batch.message
    charges = Charge.objects.filter(batch=batch)
    amount = sum(payouts) + figures.round_half_up_fee(sum(payouts), fee_bp)
    assert batch.amount_cents == amount
    assert charges.count() == batch.participants == members + len(payouts)
    total = charges.aggregate(s=Sum("amount_cents"))["s"]
    assert total + batch.subsidy_cents == amount
    for charge in charges:
        share = charge.amount_cents + charge.capped_cents
        assert share in (batch.base_share_cents, batch.base_share_cents + 1)
        assert charge.amount_cents <= cap
        if charge.capped_cents:
            assert charge.amount_cents == cap
    assert (
        charges.filter(amount_cents__gt=0).count() == 0
        or sum(c.amount_cents + c.capped_cents == batch.base_share_cents + 1 for c in charges)
        == batch.remainder_cents
    )


@pytest.mark.parametrize(
    "payouts,bp,fee", [(0, 800, 0), (1, 5000, 1), (1, 4999, 0), (3, 5000, 2), (12_345, 800, 988)]
)
def test_fee_rounds_half_up(payouts, bp, fee):
    assert figures.round_half_up_fee(payouts, bp) == fee


@pytest.mark.django_db
@pytest.mark.parametrize("band", [None, 0, 2])
def test_odd_cent_cut_is_exact_whether_its_band_holds_it_or_not(pool, band):
    """The cut is found in a band of the hash space around r/N; a band that misses it (band
    0 always, band 2 sometimes) falls back to sorting every hash, with the same answer."""
    bulk_members(pool, 300)
    members = list(pool.memberships.values_list("pk", flat=True))
    by_hash = sorted(members, key=lambda m: (odd_cent.odd_cent_hash(77, m), m))
    params = {"pool": pool.pk, "cutoff": timezone.now(), "batch": 77}
    for remainder in (1, 2, 100, 150, 299, 300):
        cut_hash, cut_id = odd_cent.odd_cent_cut(params, 300, remainder, band=band)
        assert cut_id == by_hash[remainder - 1]
        assert cut_hash == odd_cent.odd_cent_hash(77, cut_id)
