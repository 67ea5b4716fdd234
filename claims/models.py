"""Claims and their review (SPEC 4). Status moves only through claims.workflow."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pools.names import in_page_language


class SponsoredScheme(models.Model):
    """A temporary free cover of every participant of a pool for one named event and period,
    with a fixed payout paid by a sponsor (SPEC 11, as the COVID-19 cover of February 2020).
    Its claims go through the same review; they are never apportioned."""

    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, related_name="schemes")
    event = models.CharField(_("event"), max_length=200)
    event_zh = models.CharField(_("event (Chinese)"), max_length=200, blank=True)
    starts_on = models.DateField(_("covers diagnoses from"))
    ends_on = models.DateField(_("covers diagnoses until"))
    payout_cents = models.BigIntegerField(_("fixed payout (cents)"))
    sponsor = models.CharField(_("sponsor"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "pk"]
        verbose_name = _("sponsored scheme")
        verbose_name_plural = _("sponsored schemes")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="scheme_period_ordered"
            ),
            models.CheckConstraint(condition=Q(payout_cents__gt=0), name="scheme_payout_positive"),
        ]

    def __str__(self):
        return f"{self.display_event} ({self.starts_on.isoformat()} – {self.ends_on.isoformat()})"

    @property
    def display_event(self) -> str:
        return in_page_language(self.event, self.event_zh)


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
    # A claim under a sponsored scheme: its fixed payout is the sponsor's, never apportioned.
    scheme = models.ForeignKey(
        SponsoredScheme,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("sponsored scheme"),
    )
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
    # Set when an investigator confirms an illness was first diagnosed in the observation period.
    first_diagnosed_on = models.DateField(
        _("first diagnosed on (confirmed)"), null=True, blank=True
    )
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
                condition=~Q(status__in=["draft", "rejected", "withdrawn"])
                & Q(scheme__isnull=True),
                name="claim_one_open_or_paid_per_membership",
            ),
            models.UniqueConstraint(
                fields=["membership", "scheme"],
                condition=~Q(status__in=["draft", "rejected", "withdrawn"])
                & Q(scheme__isnull=False),
                name="claim_one_open_or_paid_per_membership_and_scheme",
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
        return _("Claim #%(id)s (%(status)s)") % {
            "id": self.pk,
            "status": self.get_status_display(),
        }


class ClaimEvent(models.Model):
    """Audit of every transition of a claim: who, what, when, and the note they wrote."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        # The state it led to; with the action in a person's words: workflow.event_label.
        return str(Claim.Status(self.to_status).label)


class Evidence(models.Model):
    """A file for a claim, stored privately under EVIDENCE_ROOT (never a public URL)."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="evidence")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    original_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=200, unique=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gt=0, size__lte=10 * 1024 * 1024), name="evidence_size_limit"
            ),
            models.CheckConstraint(
                condition=Q(content_type__in=["application/pdf", "image/jpeg", "image/png"]),
                name="evidence_allowed_types",
            ),
        ]

    def __str__(self):
        return self.original_name


class EvidenceRecord(models.Model):
    """One link of the append-only evidence chain (SPEC 5). Never updated or deleted."""

    seq = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=40)
    at = models.CharField(max_length=40)
    payload = models.JSONField()
    file_sha256 = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self):
        return f"#{self.seq} {self.kind}"


class Notification(models.Model):
    """An in-app message to a member; the same text is emailed by a task after commit."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    claim = models.ForeignKey(Claim, null=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    # The outbox: handed to the broker at `email_queued_at`, sent at `emailed_at`. A message
    # the broker never took (Redis down) or lost is handed over again by a beat task.
    email_queued_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(emailed_at__isnull=True),
                name="notification_email_outbox",
            )
        ]

    def __str__(self):
        return self.text
