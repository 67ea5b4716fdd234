"""Enrollment and membership lifecycle (SPEC 2, 3). Views, API, admin and tasks call these."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ledger.models import Account
from ledger.services import post, system_account, wallet_for
from members.ages import age_on, born_by
from members.bulk import bulk_change_status
from members.identity import validate_identity_number
from members.models import Membership, MembershipStatusChange, Person
from members.payments import PaymentProvider, SandboxProvider
from members.transitions import INVESTIGATOR, MEMBER, SYSTEM, TRANSITIONS
from mutualaid import pagecache
from mutualaid.roles import has_role
from pools.models import Pool, WindDown
from pools.rules import rules_on

S = Membership.Status
MAX_TOP_UP_CENTS = 100_000_00


@dataclass
class PersonDetails:
    relationship: str
    full_name: str
    sex: str
    birth_date: dt.date
    identity_number: str
    province: str


def check_join_age(pool: Pool, born: dt.date, today: dt.date):
    if (today - born).days < pool.min_join_age_days:
        raise ValidationError(
            _("Too young to join this pool: members must be at least %(days)s days old.")
            % {"days": pool.min_join_age_days},
            code="too_young",
        )
    if age_on(born, today) > pool.max_join_age_years:
        raise ValidationError(
            _("Too old to join this pool: it accepts members up to %(years)s years old.")
            % {"years": pool.max_join_age_years},
            code="too_old",
        )


def check_can_join(person: Person, pool: Pool, today: dt.date):
    """Every refusal of SPEC 2/3, each with a reason a member understands."""
    if not pool.is_open:
        raise ValidationError(_("This pool is not accepting new members."), code="closed")
    check_join_age(pool, person.birth_date, today)
    memberships = Membership.objects.filter(person=person, pool=pool)
    if memberships.filter(status__in=Membership.OPEN_STATUSES).exists():
        raise ValidationError(
            _("%(name)s is already a member of this pool.") % {"name": person.full_name},
            code="already_member",
        )
    if memberships.filter(status=S.ENDED_IN_WAITING).exists():
        raise ValidationError(
            _(
                "%(name)s was diagnosed during this pool's observation period before and may "
                "not rejoin it."
            )
            % {"name": person.full_name},
            code="ended_in_waiting",
        )


def create_person(account, details: PersonDetails) -> Person:
    number = validate_identity_number(details.identity_number, birth_date=details.birth_date)
    if Person.objects.filter(identity_number=number).exists():
        raise ValidationError(
            _("A person with this identity number is already registered."), code="duplicate_id"
        )
    if (
        details.relationship == Person.Relationship.SELF
        and Person.objects.filter(account=account, relationship="self").exists()
    ):
        raise ValidationError(
            _("This account already has its holder registered."), code="second_self"
        )
    return Person.objects.create(
        account=account,
        relationship=details.relationship,
        full_name=details.full_name.strip(),
        sex=details.sex,
        birth_date=details.birth_date,
        identity_number=number,
        province=details.province.strip(),
    )


def enroll(
    account,
    pool: Pool,
    *,
    person: Person | None = None,
    details: PersonDetails | None = None,
    declaration_accepted: bool,
    rules_accepted: bool,
    actor=None,
) -> Membership:
    """Join a pool for the account holder or a family member; starts the observation period."""
    if not declaration_accepted:
        raise ValidationError(
            _("Please confirm the health declaration: none of the listed pre-existing conditions."),
            code="declaration",
        )
    if not rules_accepted:
        raise ValidationError(_("Please accept the pool rules to join."), code="rules")
    now = timezone.now()
    today = pool.today()  # the members' calendar: the join day and the observation period
    try:
        with transaction.atomic():
            if person is None:
                person = create_person(account, details)
            elif person.account_id != account.pk:
                raise ValidationError(_("This person is not on your account."), code="not_yours")
            Person.objects.select_for_update().get(pk=person.pk)
            check_can_join(person, pool, today)
            membership = Membership.objects.create(
                person=person,
                pool=pool,
                status=S.WAITING,
                joined_at=now,
                # Fixed at the join by the rules in force that day: a later version does not
                # move an observation period that has begun.
                waiting_ends_on=today + dt.timedelta(days=rules_on(pool, today).waiting_days),
                status_changed_at=now,
            )
            MembershipStatusChange.objects.create(
                membership=membership,
                from_status="",
                to_status=S.WAITING,
                cause="joined",
                actor=actor or account,
                at=now,
            )
            wallet_for(account)
    except IntegrityError as exc:
        raise ValidationError(
            _("This person is already a member of this pool."), code="already_member"
        ) from exc
    return membership


@transaction.atomic
def change_membership_status(membership: Membership, name: str, cause: str, actor):
    """A person's transition of members.transitions, one membership: locked, checked, recorded.
    The system's transitions are refused here (members.bulk makes them)."""
    rule = TRANSITIONS[name]
    _check_actor(membership, rule, actor)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    to_status = rule.target
    if membership.status not in rule.sources:
        raise ValidationError(
            _("A membership that is %(current)s cannot become %(new)s.")
            % {"current": membership.get_status_display(), "new": S(to_status).label},
            code="transition",
        )
    now = timezone.now()
    MembershipStatusChange.objects.create(
        membership=membership,
        from_status=membership.status,
        to_status=to_status,
        cause=cause,
        actor=actor,
        at=now,
    )
    membership.status = to_status
    membership.status_changed_at = now
    if to_status not in Membership.OPEN_STATUSES:
        membership.ended_at = now
    else:
        membership.ended_at = None  # reopened (a reinstatement)
    if to_status == S.ACTIVE:
        membership.active_since = membership.active_since or now.date()
        membership.suspended_since = None
    membership.save()
    return membership


def _check_actor(membership: Membership, rule, actor):
    if rule.actor == MEMBER and (actor is None or actor.pk != membership.person.account_id):
        raise PermissionDenied(_("Only the member may do this."))
    if rule.actor == INVESTIGATOR and not has_role(actor, INVESTIGATOR):
        raise PermissionDenied(_("This needs the investigators role."))
    if rule.actor == SYSTEM:
        raise PermissionDenied(f"{rule.target}: made by the system, set-based (members.bulk)")


def withdraw_membership(membership: Membership, actor) -> Membership:
    """The member quits; charges already published stay due (SPEC 6)."""
    if membership.person.account_id != actor.pk:
        raise ValidationError(_("This membership is not yours."), code="not_yours")
    return change_membership_status(membership, "withdraw", "withdrawn by the member", actor)


def written_off_cents(membership: Membership) -> int:
    """What reinstating the membership costs: its charges written off at the lapse."""
    from apportionment.models import Charge

    return (
        Charge.objects.of_account(membership.person.account_id)
        .filter(membership=membership, written_off_at__isnull=False)
        .aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )


def reinstate_membership(membership: Membership, actor, today: dt.date | None = None):
    """A lapsed membership back, within the pool's reinstatement window after the lapse (SPEC 3:
    30 days): its written-off charges are paid from the wallet and it is active again with its
    original observation period (still waiting if that has not ended), no new one."""
    today = today or timezone.localdate()
    if membership.person.account_id != actor.pk:
        raise ValidationError(_("This membership is not yours."), code="not_yours")
    from apportionment.arrears import pay_written_off_charges

    try:
        with transaction.atomic():
            locked = Membership.objects.select_for_update().get(pk=membership.pk)
            if locked.status != S.LAPSED:
                raise ValidationError(
                    _("Only a lapsed membership can be reinstated (this one is %(status)s).")
                    % {"status": locked.get_status_display()},
                    code="not_lapsed",
                )
            lapsed_on = timezone.localdate(locked.ended_at)
            if WindDown.objects.filter(pool=locked.pool_id, status=WindDown.Status.CLOSED).exists():
                raise ValidationError(
                    _("This pool has closed: a membership of it can no longer be reinstated."),
                    code="pool_closed",
                )
            if today > locked.reinstatable_until:
                raise ValidationError(
                    _(
                        "This membership lapsed on %(date)s, more than %(days)s days ago: it "
                        "can no longer be reinstated. Join the pool again (a new observation "
                        "period starts)."
                    )
                    % {"date": lapsed_on.isoformat(), "days": locked.pool.reinstate_days},
                    code="reinstate_too_late",
                )
            paid = pay_written_off_charges(locked)
            name = "reinstate_in_waiting" if locked.waiting_ends_on > today else "reinstate"
            membership = change_membership_status(
                locked,
                name,
                f"reinstated within {locked.pool.reinstate_days} days of the lapse: "
                f"{paid} cents paid",
                actor,
            )
            Membership.objects.filter(pk=membership.pk).update(suspended_since=None)
    except IntegrityError as exc:
        raise ValidationError(
            _("This person is a member of this pool again already."), code="already_member"
        ) from exc
    pagecache.bump(pagecache.member(actor.pk))
    membership.refresh_from_db()
    return membership


def end_in_waiting(membership: Membership, actor, cause: str) -> Membership:
    """An illness first diagnosed in the observation period was never covered (SPEC 3): the
    membership ends, the shares it paid are refunded and the person may not rejoin the pool.
    Called by the claim workflow once an investigator confirms the date."""
    from apportionment.arrears import refund_membership_charges

    membership = change_membership_status(membership, "end_in_waiting", cause, actor)
    refund_membership_charges(membership)
    pagecache.bump(pagecache.member(membership.person.account_id))  # the refund's balances
    return membership


def top_up_wallet(user, amount_cents: int, provider: PaymentProvider | None = None) -> Account:
    """Money in through the payment provider; then unpaid charges are settled from it."""
    if not isinstance(amount_cents, int) or not 0 < amount_cents <= MAX_TOP_UP_CENTS:
        raise ValidationError(_("A top-up is between ¥0.01 and ¥100,000.00."), code="top_up_amount")
    provider = provider or SandboxProvider()
    with transaction.atomic():
        reference = provider.collect(user, amount_cents)
        wallet = wallet_for(user)
        post(
            "top-up",
            [
                (system_account(Account.Kind.PAYMENT_PROVIDER), -amount_cents),
                (wallet, amount_cents),
            ],
            memo=f"top-up {reference}",
        )
        from apportionment.collection import settle_unpaid_charges

        settle_unpaid_charges(user)
        pagecache.bump(pagecache.member(user.pk))  # balances and charges move by UPDATE
    wallet.refresh_from_db()
    return wallet


def daily_status_sweep(today: dt.date) -> dict:
    """Time-driven status changes, set-based and idempotent; correct when run late.

    waiting → active on the day the waiting period ends; any open membership → expired on the
    day the person reaches the pool's exit age. (Suspended → lapsed follows the daily retry of
    unpaid charges in apportionment: `daily_retry_and_lapse`, after the pool's `grace_days`.)
    """
    activated = bulk_change_status(
        Membership.objects.filter(waiting_ends_on__lte=today),
        transition="activate",
        cause="observation period ended",
    )
    expired = 0
    for pool in Pool.objects.all():
        born_on_or_before = born_by(today, pool.exit_age_years)
        expired += bulk_change_status(
            Membership.objects.filter(
                pool=pool,
                person_id__in=Person.objects.filter(birth_date__lte=born_on_or_before).values("pk"),
            ),
            transition="expire",
            cause="reached the pool's exit age",
        )
    return {"activated": activated, "expired": expired}
