"""Public notice, objections, appeals and the member panel (SPEC 4)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

models.CharField.register_lookup(Length)
models.TextField.register_lookup(Length)

MIN_REASON = 20
# Reasons are published and copied into the evidence log: a page of text, not a book.
MAX_REASON = 2000


class Objection(models.Model):
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="objections")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "member"], name="objection_one_per_member"),
            models.CheckConstraint(
                condition=Q(reason__length__gte=MIN_REASON), name="objection_reason_min_length"
            ),
        ]

    def __str__(self):
        return f"Objection #{self.pk} on claim {self.claim_id}"


class Appeal(models.Model):
    claim = models.OneToOneField("claims.Claim", on_delete=models.PROTECT, related_name="appeal")
    reason = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="appeal_reason_required"),
        ]

    def __str__(self):
        return f"Appeal on claim {self.claim_id}"


class JuryVolunteer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jury_volunteer"
    )
    accepted_rules_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Jury volunteer {self.user_id}"


class PanelQuerySet(models.QuerySet):
    def with_vote_counts(self):
        """Annotate seats (jurors drawn) and the approve and reject votes cast."""
        return self.annotate(
            seats=models.Count("jurors"),
            approve=models.Count("jurors__vote", filter=Q(jurors__vote__choice="approve")),
            reject=models.Count("jurors__vote", filter=Q(jurors__vote__choice="reject")),
        )


class Panel(models.Model):
    class Status(models.TextChoices):
        VOTING = "voting", _("Voting")
        DECIDED = "decided", _("Decided")
        NEEDS_ADJUDICATOR = "needs_adjudicator", _("Needs adjudicator")

    class Outcome(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")

    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="panels")
    seed = models.BigIntegerField()
    drawn_at = models.DateTimeField()
    deadline = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.VOTING)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)

    objects = PanelQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(status="voting"),
                name="panel_one_voting_per_claim",
            ),
        ]

    def __str__(self):
        return f"Panel #{self.pk} for claim {self.claim_id}"

    def accepts_votes(self, now):
        return self.status == self.Status.VOTING and now <= self.deadline


class Juror(models.Model):
    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="jurors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["panel", "user"], name="juror_once_per_panel"),
        ]

    def __str__(self):
        return f"Juror #{self.pk} on panel {self.panel_id}"


class Vote(models.Model):
    juror = models.OneToOneField(Juror, on_delete=models.PROTECT, related_name="vote")
    choice = models.CharField(max_length=10, choices=Panel.Outcome.choices)
    reason = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="vote_reason_required"),
            models.CheckConstraint(
                condition=Q(choice__in=["approve", "reject"]), name="vote_choice_valid"
            ),
        ]

    def __str__(self):
        return f"Vote #{self.pk}"
