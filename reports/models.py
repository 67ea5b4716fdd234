"""What the open books keep besides the batches: the share forecast each batch was given."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ShareForecast(models.Model):
    """The forecast of a pool's next share (reports.forecast), recorded when the batch before
    it was published. `batch` is the batch it forecast, set when that batch is published, so
    its report shows forecast against actual; until then it is the pool's pending forecast."""

    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, related_name="+")
    batch = models.OneToOneField(
        "apportionment.Batch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="forecast",
    )
    made_at = models.DateTimeField()
    participants = models.BigIntegerField()
    approved_cents = models.BigIntegerField(help_text=_("Approved claims not yet in a batch."))
    review_cents = models.BigIntegerField(help_text=_("Claims in review, if all were approved."))
    expected_payouts_cents = models.BigIntegerField()
    low_cents = models.BigIntegerField()
    expected_cents = models.BigIntegerField()
    high_cents = models.BigIntegerField()

    class Meta:
        ordering = ["pool", "made_at", "pk"]
        verbose_name = _("share forecast")
        verbose_name_plural = _("share forecasts")
        constraints = [
            models.UniqueConstraint(
                fields=["pool"],
                condition=Q(batch__isnull=True),
                name="share_forecast_one_pending_per_pool",
            ),
            models.CheckConstraint(
                condition=Q(low_cents__gte=0)
                & Q(expected_cents__gte=F("low_cents"))
                & Q(high_cents__gte=F("expected_cents")),
                name="share_forecast_low_expected_high",
            ),
        ]

    def __str__(self):
        return f"forecast {self.low_cents}/{self.expected_cents}/{self.high_cents} ({self.pool_id})"

    @property
    def error_cents(self) -> int | None:
        """Actual base share minus the expected one, once the batch is published."""
        return self.batch.base_share_cents - self.expected_cents if self.batch else None


class MerkleBlock(models.Model):
    """A node of a batch's Merkle tree at height merkle.BLOCK_HEIGHT: the summed root of
    merkle.BLOCK consecutive charges, stored with the batch's root so that a member's proof
    reads one block of charges and the batch's blocks, never the whole batch (issue 20).
    Derived data: rewritten whenever the root is."""

    batch = models.ForeignKey("apportionment.Batch", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    first_membership_id = models.BigIntegerField(
        help_text=_("The membership of the block's first charge.")
    )
    digest = models.BinaryField(max_length=32)
    sum_cents = models.BigIntegerField()

    class Meta:
        ordering = ["batch", "position"]
        verbose_name = _("Merkle block")
        verbose_name_plural = _("Merkle blocks")
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="merkle_block_position"),
            models.UniqueConstraint(
                fields=["batch", "first_membership_id"], name="merkle_block_first_membership"
            ),
            models.CheckConstraint(
                condition=Q(sum_cents__gte=0), name="merkle_block_sum_not_negative"
            ),
        ]

    def __str__(self):
        return f"block {self.position} of batch {self.batch_id}"
