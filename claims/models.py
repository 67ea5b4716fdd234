"""Claims and their review (SPEC 4). Status moves only through claims.workflow."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Claim(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        INVESTIGATING = "investigating", _("Investigating")
        NEEDS_INFO = "needs_info", _("Needs information")
        INVESTIGATED = "investigated", _("Investigated")
        PUBLIC_NOTICE = "public_notice", _("Public notice")
        PANEL_REVIEW = "panel_review", _("Panel review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        APPORTIONED = "apportioned", _("Apportioned")
        PAID = "paid", _("Paid")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Cause(models.TextChoices):
        ILLNESS = "illness", _("Illness")
        ACCIDENT = "accident", _("Accident")

    # A membership may have one claim that is neither finished-unpaid nor a draft.
    CLOSED_STATUSES = (Status.DRAFT, Status.REJECTED, Status.WITHDRAWN)

    membership = models.ForeignKey(
        "members.Membership", on_delete=models.PROTECT, related_name="claims"
    )
    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, related_name="claims")
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims"
    )
    condition = models.ForeignKey("pools.Condition", on_delete=models.PROTECT, related_name="+")
    cause = models.CharField(max_length=10, choices=Cause.choices, default=Cause.ILLNESS)
    diagnosis_date = models.DateField()
    hospital = models.CharField(max_length=200)
    province = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims_investigated",
    )
    adjudicator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims_adjudicated",
    )
    investigation_report = models.TextField(blank=True)
    payout_cents = models.BigIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    notice_ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["pool", "status"], name="claim_pool_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=~Q(status__in=["draft", "rejected", "withdrawn"]),
                name="claim_one_open_or_paid_per_membership",
            ),
            models.CheckConstraint(
                condition=Q(payout_cents__isnull=True) | Q(payout_cents__gt=0),
                name="claim_payout_positive",
            ),
            models.CheckConstraint(
                condition=Q(investigator__isnull=True)
                | Q(adjudicator__isnull=True)
                | ~Q(investigator=models.F("adjudicator")),
                name="claim_four_eyes",
            ),
        ]

    def __str__(self):
        return f"Claim #{self.pk} ({self.status})"
