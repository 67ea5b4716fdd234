"""Member statement (SPEC 11): what an account paid for in a calendar year, and why.

For a year, every charge of every membership of the account, with its batch's figures (P, F, S,
N, base share) and the anonymized cases the batch paid for, whether it was paid, and per
membership the total against the annual cap. The same statement feeds the page, the API, the
CSV and the PDF. It is read in a fixed number of queries whatever the number of charges.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from apportionment.models import Batch, BatchClaim, Charge
from claims.anonymized import anonymized_case
from members.models import Membership

# The first year a statement can be asked for (before it, no pool of ours existed).
FIRST_YEAR = 2000
OWED_STATUSES = ("unpaid", "due", "written_off")


@dataclass
class StatementLine:
    """One charge: its batch (with the batch's figures), the cases it paid for, its status."""

    charge: Charge
    cases: list[dict]

    @property
    def batch(self) -> Batch:
        return self.charge.batch

    @property
    def payment_status(self) -> str:
        return self.charge.payment_status


@dataclass
class MembershipStatement:
    """A membership's charges of the year and their totals against the annual cap."""

    membership: Membership
    annual_cap_cents: int
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def charged_cents(self) -> int:
        return sum(line.charge.amount_cents for line in self.lines)

    @property
    def capped_cents(self) -> int:
        """What the cap cut from this membership's shares (the sponsor paid it)."""
        return sum(line.charge.capped_cents for line in self.lines)

    @property
    def paid_cents(self) -> int:
        return sum(line.charge.amount_cents for line in self.lines if line.payment_status == "paid")

    @property
    def owed_cents(self) -> int:
        """Charged and not paid: due on collection day, unpaid, or written off at a lapse."""
        return self.charged_cents - self.paid_cents

    @property
    def cap_left_cents(self) -> int:
        return max(self.annual_cap_cents - self.charged_cents, 0)


@dataclass
class Statement:
    year: int
    memberships: list[MembershipStatement]
    # The years the account has charges in (for choosing another), newest first.
    years: list[int]
    # Batches of the account's pools in that year whose charges were archived to a file
    # (apportionment/archive.py): their charges are no longer listed here.
    archived: list[Batch] = field(default_factory=list)

    @property
    def charged_cents(self) -> int:
        return sum(m.charged_cents for m in self.memberships)

    @property
    def paid_cents(self) -> int:
        return sum(m.paid_cents for m in self.memberships)

    @property
    def owed_cents(self) -> int:
        return sum(m.owed_cents for m in self.memberships)

    @property
    def charge_count(self) -> int:
        return sum(len(m.lines) for m in self.memberships)


def statement_year(raw, *, today: dt.date | None = None) -> int:
    """The year asked for (`None` or "": this year); a clear ValidationError for anything that
    is not a year from FIRST_YEAR to this year."""
    this_year = (today or timezone.localdate()).year
    if raw is None or str(raw).strip() == "":
        return this_year
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise ValidationError(
            _("The year must be four digits, such as %(year)s.") % {"year": this_year},
            code="year",
        )
    year = int(text)
    if not FIRST_YEAR <= year <= this_year:
        raise ValidationError(
            _("There are statements for the years %(first)s to %(last)s.")
            % {"first": FIRST_YEAR, "last": this_year},
            code="year",
        )
    return year


def member_statement(*, user, year: int) -> Statement:
    """The account's statement for `year` (the calendar year of the batches' cut-offs, the
    year their annual cap counts in), in three queries: charges with their batches and
    memberships, the batches' cases, the years with charges, and the archived batches."""
    charges = list(
        Charge.objects.of_account(user)
        .filter(batch__cap_year=year, batch__status__in=Batch.PUBLIC_STATUSES)
        .select_related("batch__pool", "membership__person", "membership__pool")
        .prefetch_related(
            Prefetch(
                "batch__batch_claims",
                queryset=BatchClaim.objects.select_related(
                    "claim__membership__person", "claim__condition", "claim__pool"
                ).order_by("claim_id"),
            )
        )
        .order_by("membership_id", "batch__cutoff_at", "batch_id")
    )
    cases: dict[int, list[dict]] = {}
    by_membership: dict[int, MembershipStatement] = {}
    for charge in charges:
        batch = charge.batch
        if batch.pk not in cases:
            cases[batch.pk] = [anonymized_case(item.claim) for item in batch.batch_claims.all()]
        entry = by_membership.get(charge.membership_id)
        if entry is None:
            entry = by_membership[charge.membership_id] = MembershipStatement(
                membership=charge.membership, annual_cap_cents=batch.annual_cap_cents
            )
        entry.annual_cap_cents = max(entry.annual_cap_cents, batch.annual_cap_cents)
        entry.lines.append(StatementLine(charge=charge, cases=cases[batch.pk]))
    years = sorted(
        set(
            Charge.objects.of_account(user)
            .filter(batch__status__in=Batch.PUBLIC_STATUSES)
            .values_list("batch__cap_year", flat=True)
            .distinct()
        )
        | {year},
        reverse=True,
    )
    archived = list(
        Batch.objects.filter(
            cap_year=year,
            archived_at__isnull=False,
            pool__memberships__person__account=user,
        )
        .distinct()
        .order_by("cutoff_at", "pk")
    )
    return Statement(
        year=year, memberships=list(by_membership.values()), years=years, archived=archived
    )
