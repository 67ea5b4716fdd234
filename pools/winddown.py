"""A pool's wind-down (SPEC 11, as Xiang Hu Bao closed): the announcement, the claim window,
the close and the wallets paid back. The `wind_down` command and the pool admin's action both
call `announce_wind_down`; the batches read `Batch.sponsor_reason` (apportionment.figures)."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apportionment.models import Charge
from claims import workflow
from claims.models import Claim
from claims.notifications import notify_claimant, notify_many
from ledger.models import Account
from ledger.models import Transaction as LedgerTransaction
from ledger.services import post, system_account, wallet_for
from members.bulk import bulk_change_status
from members.languages import in_every_language
from members.models import Membership, Person
from mutualaid import pagecache
from mutualaid.roles import OPERATORS, has_role
from pools.models import CLAIM_WINDOW_DAYS, Pool, WindDown
from pools.rules import rules_on

# How far ahead a closing may be announced: members are charged nothing until then.
MAX_NOTICE_DAYS = 366
ANNOUNCED = gettext_noop(
    "%(pool)s is closing: you are charged nothing from now on, and it covers you until "
    "%(day)s. A diagnosis before then may be claimed for 180 days."
)
CLOSED = gettext_noop(
    "%(pool)s has closed. You may ask for your wallet's balance back on your dashboard."
)


@dataclass(frozen=True)
class Announcement:
    """What an announcement did (or, for a dry run, would do)."""

    pool: Pool
    closing_date: dt.date
    claims_until: dt.date
    accounts_told: int
    written: bool


def wind_down_of(pool: Pool) -> WindDown | None:
    try:
        return pool.wind_down
    except WindDown.DoesNotExist:
        return None


def last_claim_day(closing_date: dt.date) -> dt.date:
    """A diagnosis the day before the closing may be claimed for CLAIM_WINDOW_DAYS after it."""
    return closing_date - dt.timedelta(days=1) + dt.timedelta(days=CLAIM_WINDOW_DAYS)


def _check_operator(actor, via: str):
    """An operator (or a superuser) in the admin; the command is run by whoever runs the host."""
    if via == WindDown.Via.COMMAND and actor is None:
        return
    if actor is None or not (actor.is_superuser or has_role(actor, OPERATORS)):
        raise PermissionDenied(_("Only an operator may announce a pool's closing."))


def _open_members(pool: Pool):
    """The accounts with an open membership of the pool (a QuerySet of account ids)."""
    return Person.objects.filter(
        memberships__pool=pool, memberships__status__in=Membership.OPEN_STATUSES
    ).values_list("account_id")


def _in_both_languages(text: str, pool: Pool, **values) -> str:
    """A notification's text, written once for every member: in each language."""
    return in_every_language(lambda: _(text) % {"pool": pool.display_name, **values})


def announce_wind_down(
    *,
    pool: Pool,
    actor,
    via: str,
    closing_date: dt.date | None = None,
    dry_run: bool = False,
) -> Announcement:
    """Close the pool to new members at once; from now every batch is the sponsor's; members
    are told in-app and by email (set-based, emails after commit). A dry run writes nothing."""
    _check_operator(actor, via)
    today = pool.today()
    closing_date = closing_date or today
    if closing_date < today:
        raise ValidationError(
            _("The closing date %(day)s is in the past (today is %(today)s in the pool).")
            % {"day": closing_date.isoformat(), "today": today.isoformat()},
            code="closing_in_past",
        )
    if closing_date > today + dt.timedelta(days=MAX_NOTICE_DAYS):
        raise ValidationError(
            _("The closing date may be at most %(days)s days ahead.") % {"days": MAX_NOTICE_DAYS},
            code="closing_too_far",
        )
    until = last_claim_day(closing_date)
    with transaction.atomic():
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
        announced = WindDown.objects.filter(pool=pool).first()
        if announced:
            raise ValidationError(
                _("The closing of this pool was announced already, on %(day)s.")
                % {"day": pool.date_of(announced.announced_at).isoformat()},
                code="already_announced",
            )
        accounts = _open_members(pool)
        if dry_run:
            told = accounts.distinct().count()
            return Announcement(pool, closing_date, until, told, written=False)
        pool.is_open = False
        pool.save(update_fields=["is_open"])  # its signal refreshes the pages that show it
        WindDown.objects.create(
            pool=pool,
            announced_at=timezone.now(),
            announced_by=actor,
            via=via,
            closing_date=closing_date,
            claims_until=until,
        )
        told = notify_many(
            accounts,
            _in_both_languages(ANNOUNCED, pool, day=closing_date.isoformat()),
        )
    return Announcement(pool, closing_date, until, told, written=True)


def claim_window_problems(pool: Pool, diagnosis_date: dt.date | None) -> list[str]:
    """A winding-down pool covers diagnoses before its closing date, each claimed within
    CLAIM_WINDOW_DAYS; a closed pool takes no claim (claims.services.submission_problems)."""
    wind_down = wind_down_of(pool)
    if wind_down is None or diagnosis_date is None:
        return []
    if wind_down.status == WindDown.Status.CLOSED:
        return [
            _("This pool closed on %(day)s: it accepts no more claims.")
            % {"day": pool.date_of(wind_down.closed_at).isoformat()}
        ]
    problems = []
    if diagnosis_date >= wind_down.closing_date:
        problems.append(
            _(
                "The pool stopped covering on its closing date, %(day)s: a diagnosis from "
                "then on is not covered."
            )
            % {"day": wind_down.closing_date.isoformat()}
        )
    deadline = diagnosis_date + dt.timedelta(days=CLAIM_WINDOW_DAYS)
    if pool.today() > deadline:
        problems.append(
            _(
                "The pool is closing: a diagnosis may be claimed for %(days)s days after it, "
                "and this one only until %(day)s."
            )
            % {"days": CLAIM_WINDOW_DAYS, "day": deadline.isoformat()}
        )
    return problems


def close_ended_wind_downs(*, today: dt.date | None = None) -> list[str]:
    """Daily: close each winding-down pool whose last claim window has ended and whose claims
    are all decided, paid and past their appeal period. Returns the slugs closed. Idempotent;
    correct when late."""
    closed = []
    for wind_down in WindDown.objects.filter(status=WindDown.Status.WINDING_DOWN).select_related(
        "pool"
    ):
        pool = wind_down.pool
        if (today or pool.today()) <= wind_down.claims_until:
            continue
        # Only the claimant could move a claim waiting for their answer: after the last claim
        # window it is withdrawn (they are told), or it would hold the close for ever.
        withdrawn = workflow.run_system_many(
            Claim.objects.filter(pool=pool, status=Claim.Status.NEEDS_INFO).values_list(
                "pk", flat=True
            ),
            "expire_unanswered",
            note="the pool's last claim window ended without the claimant's answer",
        )
        for claim in Claim.objects.filter(pk__in=withdrawn):  # a few at most: each is told
            notify_claimant(claim, "expire_unanswered")
        undecided = Claim.objects.filter(pool=pool).exclude(
            status__in=[*Claim.CLOSED_STATUSES, Claim.Status.PAID]
        )
        # A rejection may be appealed for the pool's appeal days (SPEC 4): not cut short by the
        # close (the longest of its rule versions' would be stricter; they rarely differ).
        appealable = Claim.objects.filter(
            pool=pool,
            status=Claim.Status.REJECTED,
            events__to_status=Claim.Status.REJECTED,
            events__at__gt=timezone.now()
            - dt.timedelta(days=rules_on(pool, pool.today()).appeal_days),
        )
        if undecided.exists() or appealable.exists():
            continue
        _close(wind_down)
        closed.append(pool.slug)
    return closed


def _close(wind_down: WindDown):
    """The pool is closed: its open memberships end and their holders are told that their
    wallets may be paid back."""
    with transaction.atomic():
        wind_down = WindDown.objects.select_for_update().select_related("pool").get(pk=wind_down.pk)
        if wind_down.status == WindDown.Status.CLOSED:
            return
        pool = wind_down.pool
        notify_many(
            _open_members(pool),
            _in_both_languages(CLOSED, pool),
        )
        wind_down.status = WindDown.Status.CLOSED
        wind_down.closed_at = timezone.now()
        wind_down.save(update_fields=["status", "closed_at"])
        bulk_change_status(
            Membership.objects.filter(pool=pool),
            transition="close_pool",
            cause=f"pool {pool.slug} closed after its last claim window",
        )


def may_request_payback(user) -> bool:
    """Once a pool of theirs has closed, a member may take their wallet's balance back."""
    return Membership.objects.filter(
        person__account=user, pool__wind_down__status=WindDown.Status.CLOSED
    ).exists()


def request_payback(*, user) -> LedgerTransaction:
    """The whole wallet balance paid back to its holder: recorded in the ledger as owed to
    them (`Account.Kind.PAYBACKS`) until the payment provider sends it. Refused while they
    owe an unpaid charge, before a pool of theirs has closed, or while the wallet still pays
    for an open membership of another pool (its next charge would lapse it)."""
    if not may_request_payback(user):
        raise ValidationError(
            _("A wallet is paid back once a pool of yours has closed."), code="not_closed"
        )
    still_member = Membership.objects.filter(
        person__account=user, status__in=Membership.OPEN_STATUSES
    ).exclude(pool__wind_down__status=WindDown.Status.CLOSED)
    if still_member.exists():
        raise ValidationError(
            _(
                "Your wallet still pays for an open membership of another pool: withdraw from "
                "it first."
            ),
            code="still_member",
        )
    with transaction.atomic():
        wallet = Account.objects.select_for_update().get(pk=wallet_for(user).pk)
        if Charge.objects.of_account(user).filter(outstanding=True).exists():
            raise ValidationError(
                _("You owe an unpaid charge: it is settled from the wallet first."),
                code="owing",
            )
        if wallet.balance_cents <= 0:
            raise ValidationError(_("Your wallet is empty."), code="empty")
        txn = post(
            "payback",
            [
                (wallet, -wallet.balance_cents),
                (system_account(Account.Kind.PAYBACKS), wallet.balance_cents),
            ],
            memo=f"wallet of account {user.pk} paid back after its pool closed",
        )
    pagecache.bump(pagecache.member(user.pk))  # the balance moved by UPDATE
    return txn
