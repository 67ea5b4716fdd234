"""Apportionment batches (SPEC 6): who pays what for which claims.

The field names of Batch and Charge are a contract with the reports app (open books).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Batch(models.Model):
    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        COLLECTING = "collecting", _("Collecting")
        COLLECTED = "collected", _("Collected")
        PAID_OUT = "paid_out", _("Paid out")
        FAILED = "failed", _("Failed")

    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, related_name="batches")
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    cutoff_at = models.DateTimeField(help_text=_("T: claims approved and members joined by then."))
    collect_on = models.DateField(null=True, blank=True)
    payouts_cents = models.BigIntegerField(default=0)  # P
    fee_cents = models.BigIntegerField(default=0)  # F
    surplus_cents = models.BigIntegerField(default=0)  # U
    amount_cents = models.BigIntegerField(default=0)  # A = P + F - U
    subsidy_cents = models.BigIntegerField(default=0)  # S (cut by the annual cap)
    participants = models.BigIntegerField(default=0)  # N
    base_share_cents = models.BigIntegerField(default=0)
    remainder_cents = models.BigIntegerField(default=0)
    merkle_root = models.CharField(max_length=64, blank=True)
    evidence_head = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    paid_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        return f"Batch #{self.pk} of {self.pool} ({self.status})"


class Charge(models.Model):
    """One membership's share of one batch. Hot table: keep its constraints deliberate."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="charges")
    membership = models.ForeignKey(
        "members.Membership", on_delete=models.PROTECT, related_name="charges"
    )
    amount_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "membership"], name="charge_once_per_batch"),
        ]

    def __str__(self):
        return f"{self.amount_cents} for membership {self.membership_id} in batch {self.batch_id}"
