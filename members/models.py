"""Persons (an account holder and their family) and their memberships of pools (SPEC 3)."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members import ages
from members.identity import STORED_PATTERN


class Person(models.Model):
    class Relationship(models.TextChoices):
        SELF = "self", _("Self")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")

    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="persons"
    )
    relationship = models.CharField(max_length=10, choices=Relationship.choices)
    full_name = models.CharField(max_length=100)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = models.DateField()
    # Stored normalized (members.identity.normalize): unique per person across all accounts.
    identity_number = models.CharField(max_length=18, unique=True)
    province = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(identity_number__regex=STORED_PATTERN),
                name="person_identity_number_normalized",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(relationship="self"),
                name="person_one_self_per_account",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.masked_identity_number})"

    @property
    def masked_identity_number(self) -> str:
        """An identity number is never shown in full once saved: all but the last 4 masked."""
        number = self.identity_number or ""
        return "*" * max(len(number) - 4, 0) + number[-4:]

    def age_on(self, day) -> int:
        return ages.age_on(self.birth_date, day)


class Membership(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting period")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended (unpaid charge)")
        LAPSED = "lapsed", _("Lapsed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        PAID_OUT = "paid_out", _("Paid out")
        EXPIRED = "expired", _("Expired (exit age)")
        ENDED_IN_WAITING = "ended_in_waiting", _("Ended in the waiting period")
        POOL_CLOSED = "pool_closed", _("Ended: the pool closed")

    OPEN_STATUSES = (Status.WAITING, Status.ACTIVE, Status.SUSPENDED)
    PARTICIPATING_STATUSES = (Status.WAITING, Status.ACTIVE)

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, related_name="memberships")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    joined_at = models.DateTimeField()
    waiting_ends_on = models.DateField(help_text=_("First day of coverage for illnesses."))
    active_since = models.DateField(null=True, blank=True)
    suspended_since = models.DateField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        # No index mentions `status`: then waiting → active and active ⇄ suspended are HOT
        # updates (no index is rewritten) in pages kept 20% free (fillfactor, migration 0005),
        # which is what makes the daily sweep over a million memberships fast.
        constraints = [
            models.UniqueConstraint(
                fields=["person", "pool"],
                condition=Q(ended_at__isnull=True),
                name="membership_one_open_per_person_pool",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "active", "suspended"], ended_at__isnull=True)
                | (~Q(status__in=["waiting", "active", "suspended"]) & Q(ended_at__isnull=False)),
                name="membership_ended_exactly_when_closed",
            ),
        ]

    def __str__(self):
        return _("%(person)s in %(pool)s (%(status)s)") % {
            "person": self.person.full_name,
            "pool": self.pool,
            "status": self.get_status_display(),
        }

    @property
    def is_open(self) -> bool:
        """Waiting, active or suspended: the member may still withdraw (members.transitions)."""
        return self.status in self.OPEN_STATUSES

    @property
    def joined_on(self):
        """The join day in the pool's calendar (a claim's dates are compared with it)."""
        return self.pool.date_of(self.joined_at)

    @property
    def reinstatable_until(self):
        """The last day a lapsed membership may be reinstated (SPEC 3), else None."""
        if self.status != self.Status.LAPSED or self.ended_at is None:
            return None
        return timezone.localdate(self.ended_at) + dt.timedelta(days=self.pool.reinstate_days)


class MembershipStatusChange(models.Model):
    """Audit of every status change: from, to, why, who (null for the system) and when."""

    # No database foreign-key check: a sweep appends a million rows at once, and deferred
    # checks of each doubled its time (docs/benchmarks.md). Rows are written only from
    # membership ids selected in the same statement, and PostgreSQL refuses to delete a
    # membership (a trigger, migration 0005), so a history row can never dangle.
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="status_changes", db_constraint=False
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    cause = models.CharField(max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # a partial index below: system changes (no actor) skip it
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        # Lean for the sweeps that append a million rows at once: read per membership (its
        # foreign-key index) and by staff actor; no index on `at`, which nothing searches by.
        indexes = [
            models.Index(
                fields=["actor"],
                condition=Q(actor__isnull=False),
                name="status_change_by_person",
            ),
        ]

    def __str__(self):
        before = Membership.Status(self.from_status).label if self.from_status else "∅"
        return f"{before} → {Membership.Status(self.to_status).label} ({self.cause})"


from members.payments import SandboxPayment  # noqa: E402, F401  (a model of this app)


class AccountSettings(models.Model):
    """What an account chose for itself: the language we write to it in (notifications and
    emails), remembered from the language its member last used on the site."""

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")

    def __str__(self):
        return f"{self.account_id}: {self.language}"
