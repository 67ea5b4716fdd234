"""Pools, their covered conditions and their benefit schedules (SPEC 2)."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pools.names import in_page_language


def validate_time_zone(name: str):
    if name not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(name)s.") % {"name": name})


def rule_checks(prefix: str) -> list[models.CheckConstraint]:
    """The checks a pool's row and each version of its rules share."""
    return [
        models.CheckConstraint(
            condition=Q(fee_rate_bp__lte=10000), name=f"{prefix}_fee_rate_at_most_100pct"
        ),
        models.CheckConstraint(
            condition=Q(annual_cap_cents__gte=0), name=f"{prefix}_annual_cap_not_negative"
        ),
        models.CheckConstraint(
            condition=Q(exit_age_years__gt=models.F("max_join_age_years")),
            name=f"{prefix}_exit_age_after_join_age",
        ),
    ]


class Condition(models.Model):
    """A covered illness from the catalogue (e.g. the 100 critical illnesses)."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        """The name in the page's language."""
        return in_page_language(self.name, self.name_zh)


class Pool(models.Model):
    class ShortfallPolicy(models.TextChoices):
        SPONSOR = "sponsor", _("The sponsor pays them")
        CARRY_FORWARD = "carry_forward", _("Added to the next batch (line D)")

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    is_open = models.BooleanField(default=True, help_text=_("Accepts new memberships."))
    # Join age: from min_join_age_days old up to (not including) max_join_age_years + 1.
    min_join_age_days = models.PositiveIntegerField(default=30)
    max_join_age_years = models.PositiveIntegerField(default=59)
    # Coverage ends on the day the person turns exit_age_years.
    exit_age_years = models.PositiveIntegerField(default=60)
    waiting_days = models.PositiveIntegerField(default=90)
    fee_rate_bp = models.PositiveIntegerField(
        default=800, help_text=_("Management fee in basis points of the payouts (800 = 8%).")
    )
    annual_cap_cents = models.BigIntegerField(default=18800)
    notice_days = models.PositiveIntegerField(default=3)
    grace_days = models.PositiveIntegerField(
        default=5,
        help_text=_(
            "Retry window: unpaid charges are retried daily for this many days after the "
            "collection day, then the membership lapses."
        ),
    )
    reinstate_days = models.PositiveIntegerField(
        default=30,
        help_text=_("A lapsed membership may be reinstated within this many days of its lapse."),
    )
    # Who covers the charges written off when a membership lapses (SPEC 6).
    shortfall_policy = models.CharField(
        max_length=20, choices=ShortfallPolicy.choices, default=ShortfallPolicy.SPONSOR
    )
    publish_days = models.CharField(max_length=50, default="7,21")
    collect_days = models.CharField(max_length=50, default="14,28")
    conditions = models.ManyToManyField(Condition, related_name="pools", blank=True)
    # The members' calendar: "today" for dates they give (a diagnosis may not be in the future).
    time_zone = models.CharField(
        max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = rule_checks("pool")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the page's language."""
        return in_page_language(self.name, self.name_zh)

    @property
    def min_join_age_years(self) -> int:
        return self.min_join_age_days // 365

    def today(self) -> dt.date:
        """Today's date where the pool's members live."""
        return self.date_of(timezone.now())

    def date_of(self, moment) -> dt.date:
        """The date of a moment where the pool's members live (a join, a lapse)."""
        return timezone.localdate(moment, timezone=zoneinfo.ZoneInfo(self.time_zone))


class BenefitBand(models.Model):
    """One row of a pool's benefit schedule: payout by age at diagnosis (inclusive bounds)."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="benefit_bands")
    min_age = models.PositiveIntegerField()
    max_age = models.PositiveIntegerField()
    payout_cents = models.BigIntegerField()

    class Meta:
        ordering = ["pool", "min_age"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "min_age"], name="benefit_band_unique_start"),
            models.CheckConstraint(
                condition=Q(max_age__gte=models.F("min_age")), name="benefit_band_ordered"
            ),
            models.CheckConstraint(condition=Q(payout_cents__gt=0), name="benefit_band_positive"),
        ]

    def __str__(self):
        return f"{self.pool}: {self.min_age}-{self.max_age}"


class RuleVersion(models.Model):
    """One published version of a pool's rules (SPEC 11): what judges a claim diagnosed from
    `effective_on` until the next version. Rows are append-only (a database trigger refuses an
    update or a delete): a published rule is never changed, a new version replaces it. A draft
    is the operator's form, never a row. The pool's own fields cache the version in force today
    (`pools.rule_changes.apply_due_versions`), so the batch engine reads the pool row unchanged.

    Every number SPEC names for a pool lives here once, its SPEC value as the default."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="rule_versions")
    effective_on = models.DateField(_("effective on"))
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("what changed and why"), blank=True)
    # Coverage (SPEC 2): condition codes of the catalogue, and the benefit schedule as
    # [min_age, max_age, payout_cents] rows with inclusive ages.
    condition_codes = models.JSONField(_("covered conditions"), default=list)
    benefit_schedule = models.JSONField(_("benefit schedule"), default=list)
    min_join_age_days = models.PositiveIntegerField(_("youngest join age (days)"), default=30)
    max_join_age_years = models.PositiveIntegerField(_("oldest join age (years)"), default=59)
    exit_age_years = models.PositiveIntegerField(_("exit age (years)"), default=60)
    waiting_days = models.PositiveIntegerField(_("observation period (days)"), default=90)
    fee_rate_bp = models.PositiveIntegerField(_("management fee"), default=800)
    annual_cap_cents = models.BigIntegerField(_("annual cap"), default=18800)
    # Membership (SPEC 3).
    grace_days = models.PositiveIntegerField(_("retry window (days)"), default=5)
    reinstate_days = models.PositiveIntegerField(_("reinstatement window (days)"), default=30)
    # Review (SPEC 4).
    notice_days = models.PositiveIntegerField(_("public notice (days)"), default=3)
    appeal_days = models.PositiveIntegerField(_("appeal window (days)"), default=14)
    panel_size = models.PositiveIntegerField(_("panel size (jurors)"), default=9)
    min_votes = models.PositiveIntegerField(_("vote minimum"), default=5)
    vote_days = models.PositiveIntegerField(_("voting time (days)"), default=3)
    juror_min_age = models.PositiveIntegerField(_("youngest juror (years)"), default=18)
    juror_active_days = models.PositiveIntegerField(
        _("juror active for at least (days)"), default=30
    )

    class Meta:
        ordering = ["pool", "effective_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "effective_on"], name="rule_version_one_per_pool_and_day"
            ),
            *rule_checks("rule_version"),
            models.CheckConstraint(
                condition=Q(panel_size__gte=1)
                & Q(min_votes__gte=1)
                & Q(min_votes__lte=models.F("panel_size")),
                name="rule_version_votes_fit_the_panel",
            ),
        ]

    def __str__(self):
        return f"{self.pool.slug} from {self.effective_on}"


# After a wind-down, a diagnosis before the closing date may be claimed this long (SPEC 11).
CLAIM_WINDOW_DAYS = 180


class WindDown(models.Model):
    """A pool's closing (SPEC 11), and its record: who announced it, when, from where. From
    `announced_at` the pool takes no new members and every batch is the sponsor's; diagnoses
    before `closing_date` may be claimed until `claims_until`; then the pool is closed, its
    memberships end and the wallets may be paid back."""

    class Status(models.TextChoices):
        WINDING_DOWN = "winding_down", _("Winding down")
        CLOSED = "closed", _("Closed")

    class Via(models.TextChoices):
        ADMIN = "admin", _("Admin console")
        COMMAND = "command", _("Management command")

    pool = models.OneToOneField(Pool, on_delete=models.PROTECT, related_name="wind_down")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.WINDING_DOWN, db_index=True
    )
    announced_at = models.DateTimeField()
    announced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    via = models.CharField(max_length=10, choices=Via.choices)
    closing_date = models.DateField(_("closing date"), help_text=_("The first day not covered."))
    claims_until = models.DateField(_("claims accepted until"))
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(claims_until__gte=models.F("closing_date")),
                name="wind_down_claims_after_closing",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | Q(status="winding_down", closed_at__isnull=True),
                name="wind_down_closed_exactly_when_closed_at",
            ),
        ]

    def __str__(self):
        return _("%(pool)s: %(status)s, closing on %(day)s") % {
            "pool": self.pool,
            "status": self.get_status_display(),
            "day": self.closing_date.isoformat(),
        }
