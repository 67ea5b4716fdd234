"""Apportionment batches (SPEC 6): who pays what for which claims.

The field names of Batch and Charge are a contract with the reports app (open books).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualaid.pairkeys import PairKeyModel, pair_key_check, pair_key_field, pair_key_filter


class Batch(models.Model):
    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        COLLECTING = "collecting", _("Collecting")
        COLLECTED = "collected", _("Collected")
        PAID_OUT = "paid_out", _("Paid out")
        FAILED = "failed", _("Failed")
        EMPTY = "empty", _("Nothing to charge")

    class SponsorReason(models.TextChoices):
        WIND_DOWN = "wind_down", _("The pool is winding down: the sponsor pays every share")

    # A pool has at most one batch in these states (a partial unique constraint).
    RUNNING_STATUSES = ("publishing", "collecting")
    PUBLIC_STATUSES = ("published", "collecting", "collected", "paid_out")
    COLLECTED_STATUSES = ("collected", "paid_out")

    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, related_name="batches")
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    cutoff_at = models.DateTimeField(help_text=_("T: claims approved and members joined by then."))
    collect_on = models.DateField(null=True, blank=True)
    payouts_cents = models.BigIntegerField(default=0)  # P
    fee_cents = models.BigIntegerField(default=0)  # F
    surplus_cents = models.BigIntegerField(default=0)  # U
    # D: charges of earlier batches written off at a lapse and carried into this one (SPEC 6).
    carried_in_cents = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)  # A = P + F - U + D
    subsidy_cents = models.BigIntegerField(default=0)  # S (cut by the annual cap)
    # Set at the start when the sponsor pays the whole amount (S = A, every charge 0.00).
    sponsor_reason = models.CharField(
        max_length=20, choices=SponsorReason.choices, blank=True, default=""
    )
    # The shortfall: this batch's charges written off when their memberships lapsed, and who
    # covered it (the pool's shortfall policy at the write-off).
    shortfall_sponsor_cents = models.BigIntegerField(default=0)
    shortfall_carried_cents = models.BigIntegerField(default=0)
    participants = models.BigIntegerField(default=0)  # N
    base_share_cents = models.BigIntegerField(default=0)
    remainder_cents = models.BigIntegerField(default=0)
    merkle_root = models.CharField(max_length=64, blank=True)
    # The sum the root carries (SPEC 7): the batch's charges, A - S. Null for a root of the
    # earlier unsummed tree, until recompute_merkle_roots replaces it.
    merkle_total_cents = models.BigIntegerField(null=True, blank=True)
    evidence_head = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    cap_year = models.PositiveIntegerField(default=0, help_text=_("Calendar year of the cap."))
    annual_cap_cents = models.BigIntegerField(default=0)
    fee_rate_bp = models.PositiveIntegerField(default=0)
    # The odd cents go to the participants whose (sha256, id) is at most this pair.
    odd_cent_hash = models.BinaryField(default=bytes)
    odd_cent_membership_id = models.BigIntegerField(default=0)
    chunk_size = models.PositiveIntegerField(default=50_000)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    paid_out_at = models.DateTimeField(null=True, blank=True)
    # Archived (apportionment/archive.py): the charges' partition written to a compressed file,
    # checked against the Merkle root and its sum, then detached from the database.
    archived_at = models.DateTimeField(null=True, blank=True)
    archive_file = models.CharField(max_length=300, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [
            models.UniqueConstraint(
                fields=["pool"],
                condition=models.Q(status__in=["publishing", "collecting"]),
                name="batch_one_running_per_pool",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    amount_cents=models.F("payouts_cents")
                    + models.F("fee_cents")
                    - models.F("surplus_cents")
                    + models.F("carried_in_cents")
                ),
                name="batch_amount_is_p_plus_f_minus_u_plus_d",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    subsidy_cents__gte=0,
                    carried_in_cents__gte=0,
                    surplus_cents__gte=0,
                    shortfall_sponsor_cents__gte=0,
                    shortfall_carried_cents__gte=0,
                    participants__gte=0,
                    remainder_cents__gte=0,
                    base_share_cents__gte=0,
                ),
                name="batch_figures_not_negative",
            ),
        ]

    def __str__(self):
        return _("Batch #%(id)s of %(pool)s (%(status)s)") % {
            "id": self.pk,
            "pool": self.pool,
            "status": self.get_status_display(),
        }

    @property
    def shortfall_cents(self) -> int:
        return self.shortfall_sponsor_cents + self.shortfall_carried_cents

    @property
    def progress(self) -> tuple[int, int]:
        """(chunks done, chunks in all) of the phase that is running."""
        chunks = self.chunks.all()
        return sum(c.status == Chunk.Status.DONE for c in chunks), len(chunks)


class RetiredMerkleRoot(models.Model):
    """A root once published for a batch and since replaced (the batch's history of roots):
    kept so that what was published stays on record."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="retired_roots")
    merkle_root = models.CharField(max_length=64)
    merkle_total_cents = models.BigIntegerField(null=True, blank=True)
    retired_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["batch", "retired_at", "pk"]

    def __str__(self):
        return f"root {self.merkle_root[:12]}… of batch {self.batch_id} (retired)"


class BatchClaim(models.Model):
    """A claim included in a batch; a claim is in at most one batch (SPEC 6)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="batch_claims")
    claim = models.OneToOneField(
        "claims.Claim", on_delete=models.PROTECT, related_name="batch_claim"
    )
    payout_cents = models.BigIntegerField()

    def __str__(self):
        return f"claim {self.claim_id} in batch {self.batch_id}"


class SchemePayout(models.Model):
    """A sponsored scheme's claim paid in a batch's payout step by the sponsor (SPEC 11): listed
    with the batch, never part of its amount nor of any member's share."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="scheme_payouts")
    claim = models.OneToOneField(
        "claims.Claim", on_delete=models.PROTECT, related_name="scheme_payout"
    )
    payout_cents = models.BigIntegerField()

    class Meta:
        ordering = ["batch", "claim"]

    def __str__(self):
        return f"scheme claim {self.claim_id} paid in batch {self.batch_id}"


class Chunk(models.Model):
    """A range of a batch's work, claimed by one task at a time with a conditional UPDATE."""

    class Phase(models.TextChoices):
        PUBLISH = "publish", _("Publish: compute charges")
        COLLECT = "collect", _("Collect: take charges from wallets")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="chunks")
    phase = models.CharField(max_length=10, choices=Phase.choices)
    number = models.PositiveIntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.BigIntegerField(default=0)
    # Publish: how many of the chunk's charges carry the odd cent (those below the band).
    odd_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["batch", "phase", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "phase", "number"], name="chunk_unique_number"
            ),
            models.CheckConstraint(
                condition=models.Q(last_id__gte=models.F("first_id")), name="chunk_range"
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_phase_display()} chunk {self.number} of batch {self.batch_id} "
            f"({self.get_status_display()})"
        )


class OddCentCandidate(models.Model):
    """A participant whose hash lies in the band where the batch's odd-cent cut falls.

    Publish chunks know the cut's neighbourhood (r/N of the hash space, SPEC 6), not the cut:
    below the band a share carries the odd cent, above it not, and inside it the chunk writes
    this row instead of a charge. When the last chunk is done, the cut is the candidate whose
    rank is what remains of r; the candidates' charges are written then and these rows go.
    """

    # (batch, membership) as one integer, like a charge's.
    id = pair_key_field(help_text=_("batch id × 2^32 + membership id"))
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey("members.Membership", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    odd_cent_hash = models.BinaryField()
    room_cents = models.BigIntegerField(help_text=_("What the annual cap leaves for this share."))

    class Meta:
        constraints = [
            pair_key_check(
                "batch_id", "membership_id", name="candidate_id_is_batch_and_membership"
            ),
        ]

    def __str__(self):
        return f"odd-cent candidate {self.membership_id} of batch {self.batch_id}"


class BatchEvent(models.Model):
    """Who started, collected or resumed a batch, and from where (SPEC 4: every move on the
    record). `actor` is empty when the scheduler (beat) did it."""

    class Action(models.TextChoices):
        START = "start", _("Started")
        COLLECT = "collect", _("Collection started")
        RESUME = "resume", _("Resumed")

    class Via(models.TextChoices):
        BEAT = "beat", _("Schedule (beat)")
        ADMIN = "admin", _("Admin console")
        COMMAND = "command", _("Management command")

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    via = models.CharField(max_length=10, choices=Via.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(via="beat", actor__isnull=True) | ~models.Q(via="beat"),
                name="batch_event_beat_has_no_actor",
            ),
            models.CheckConstraint(
                condition=~models.Q(via="admin") | models.Q(actor__isnull=False),
                name="batch_event_admin_has_actor",
            ),
        ]

    def __str__(self):
        who = self.actor or self.get_via_display()
        return f"{self.get_action_display()} by {who}"


class ChargeQuerySet(models.QuerySet):
    def of_batch(self, batch_id: int):
        """A batch's charges, read as one range of the primary key."""
        return self.filter(**pair_key_filter("batch_id", batch_id))

    def of_account(self, user):
        """The charges an account holder owes: those of every membership of their household."""
        return self.filter(account=user)

    def settled(self):
        """Charges no longer owed: settled after collection day, or not outstanding in a
        collection that has reached their account (its batch collected, or the collect chunk
        of their account done)."""
        reached = Chunk.objects.filter(
            batch=models.OuterRef("batch"),
            phase=Chunk.Phase.COLLECT,
            status=Chunk.Status.DONE,
            first_id__lte=models.OuterRef("account"),
            last_id__gte=models.OuterRef("account"),
        )
        collected = models.Q(batch__status__in=Batch.COLLECTED_STATUSES) | models.Exists(reached)
        return self.filter(
            models.Q(paid_at__isnull=False)
            | (models.Q(outstanding=False, written_off_at__isnull=True) & collected)
        )


class Charge(PairKeyModel):
    """One membership's share of one batch. Hot table: keep its constraints deliberate.

    Collection records exceptions, not marks: a charge the wallet covered on collection day is
    not written again (it is paid because its batch was collected); a charge the wallet could
    not cover becomes `outstanding`; `paid_at` is set only for a charge settled later (a retry
    after a top-up, or the sponsor's waiver).
    """

    # (batch, membership) as one integer: the primary key is also the unique key.
    PAIR_KEY = ("batch_id", "membership_id")
    id = pair_key_field(help_text=_("batch id × 2^32 + membership id"))
    # No database foreign-key checks on this hot table: they made the set-based insert 3×
    # slower (docs/benchmarks.md). Charges are written only by the engine, from membership ids
    # it selects in the same statement; batches, memberships and accounts are never deleted.
    batch = models.ForeignKey(
        Batch,
        on_delete=models.PROTECT,
        related_name="charges",
        db_constraint=False,
        db_index=False,  # the primary key (batch, membership) serves it
    )
    membership = models.ForeignKey(
        "members.Membership",
        on_delete=models.PROTECT,
        related_name="charges",
        db_constraint=False,
        db_index=False,  # charges are read by batch or by account, never by membership alone
    )
    # The account holder whose wallet pays it (the membership's household at publication).
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the index (account, batch) serves it
    )
    amount_cents = models.BigIntegerField()
    # What the annual cap cut from this membership's share (paid by the sponsor).
    capped_cents = models.BigIntegerField(default=0)
    outstanding = models.BooleanField(
        default=False, help_text=_("The wallet did not cover it on collection day.")
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    # Unpaid when its membership lapsed: covered by the pool's shortfall policy (SPEC 6) until
    # a reinstatement pays it.
    written_off_at = models.DateTimeField(null=True, blank=True)
    # The ledger transaction that settled it after collection day (or wrote it off).
    ledger_txn_id = models.BigIntegerField(null=True, blank=True)

    objects = ChargeQuerySet.as_manager()

    class Meta:
        # Deliberately lean: the primary key (which is also the unique key (batch, membership)),
        # one index for an account's charges (the member's pages and collection by account
        # range) and a small partial index of the exceptions.
        constraints = [
            pair_key_check("batch_id", "membership_id", name="charge_id_is_batch_and_membership"),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gte=0, capped_cents__gte=0),
                name="charge_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(outstanding=False) | models.Q(paid_at__isnull=True),
                name="charge_outstanding_is_unpaid",
            ),
            models.CheckConstraint(
                condition=models.Q(written_off_at__isnull=True)
                | models.Q(outstanding=False, paid_at__isnull=True),
                name="charge_written_off_is_neither_outstanding_nor_paid",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "batch"], name="charge_account"),
            models.Index(
                fields=["account", "membership"],
                condition=models.Q(outstanding=True),
                name="charge_outstanding",
            ),
        ]

    def __str__(self):
        return f"{self.amount_cents} for membership {self.membership_id} in batch {self.batch_id}"

    @property
    def payment_status(self) -> str:
        """ "paid", "unpaid" (outstanding), "written_off" (unpaid at the lapse of its membership)
        or "due" (its batch is not collected yet)."""
        if self.outstanding:
            return "unpaid"
        if self.written_off_at:
            return "written_off"
        if self.paid_at or self.batch.status in Batch.COLLECTED_STATUSES:
            return "paid"
        return "due"

    @property
    def paid_on(self):
        if self.payment_status != "paid":
            return None
        return self.paid_at or self.batch.collected_at
