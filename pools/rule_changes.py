"""Changing a pool's rules (SPEC 11): an operator drafts a version, sees what it changes and
publishes it at least 30 days ahead in the pool's calendar; the pool's members are told at once
(in-app and by email) and may withdraw before it takes effect: a membership withdrawn before a
batch's cut-off takes part in no batch published after it. An hourly task copies the version in
force onto the pool row (the cache the batch engine and the pool pages read).
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims import evidence_log
from claims.notifications import notify_many
from members.languages import in_every_language
from members.models import Membership, Person
from mutualaid import pagecache
from mutualaid.roles import OPERATORS, has_role
from pools.models import BenefitBand, Condition, Pool, RuleVersion, WindDown
from pools.rules import (
    CACHED_ON_POOL,
    NUMBERS,
    Rules,
    differences,
    from_pool,
    from_version,
    version_on,
)

# SPEC 11: a rule change is announced at least this many days before it takes effect.
NOTICE_OF_CHANGE_DAYS = 30


def earliest_effective_on(pool: Pool) -> dt.date:
    return pool.today() + dt.timedelta(days=NOTICE_OF_CHANGE_DAYS)


def draft_rule_version(*, pool: Pool) -> dict:
    """A new version's starting values: the pool's latest version (a change already scheduled
    included), effective on the earliest day allowed. Nothing is stored until it is published."""
    latest = RuleVersion.objects.filter(pool=pool).order_by("-effective_on").first()
    rules = from_version(latest) if latest else from_pool(pool)
    return {**rules.values(), "effective_on": earliest_effective_on(pool)}


def replaced_by(pool: Pool, effective_on: dt.date) -> Rules | None:
    """The rules a version effective on `effective_on` follows (None for a pool's first)."""
    version = version_on(pool, effective_on - dt.timedelta(days=1))
    return from_version(version) if version else None


def check_rule_values(values: dict) -> Rules:
    """The values of a new version as Rules, or every reason they cannot be published."""
    problems = []
    codes = sorted(set(values["condition_codes"]))
    known = set(Condition.objects.filter(code__in=codes).values_list("code", flat=True))
    if set(codes) - known:
        problems.append(
            _("Unknown condition codes: %(codes)s.")
            % {"codes": ", ".join(sorted(set(codes) - known))}
        )
    if not codes:
        problems.append(_("A pool covers at least one condition."))
    schedule = sorted(tuple(int(x) for x in band) for band in values["benefit_schedule"])
    if not schedule:
        problems.append(_("The benefit schedule needs at least one age band."))
    for index, (low, high, payout) in enumerate(schedule):
        if high < low or payout <= 0:
            problems.append(
                _("Age band %(low)s–%(high)s: the ages are reversed or the payout is not positive.")
                % {"low": low, "high": high}
            )
        if index and low <= schedule[index - 1][1]:
            problems.append(
                _("Age bands %(a)s and %(b)s overlap.")
                % {"a": f"{schedule[index - 1][0]}–{schedule[index - 1][1]}", "b": f"{low}–{high}"}
            )
    numbers = {name: int(values[name]) for name in NUMBERS}
    if numbers["fee_rate_bp"] > 10_000:
        problems.append(_("The management fee is at most 100 % (10000 basis points)."))
    if numbers["exit_age_years"] <= numbers["max_join_age_years"]:
        problems.append(_("The exit age must be above the oldest join age."))
    if not 1 <= numbers["min_votes"] <= numbers["panel_size"]:
        problems.append(_("The vote minimum must be between 1 and the panel size."))
    if problems:
        raise ValidationError(problems, code="rules")
    return Rules(
        effective_on=values.get("effective_on"),
        condition_codes=frozenset(codes),
        benefit_schedule=tuple(schedule),
        **numbers,
    )


def record_first_version(*, pool: Pool, effective_on: dt.date | None = None, by=None):
    """A new pool's rules as its first version, in force from `effective_on` (its first day):
    no notice is owed, it has no members yet. Refused once the pool has a version."""
    with transaction.atomic():
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
        if RuleVersion.objects.filter(pool=pool).exists():
            raise ValidationError(_("This pool's rules have versions already."), code="has_rules")
        return RuleVersion.objects.create(
            pool=pool,
            effective_on=effective_on or pool.today(),
            published_at=timezone.now(),
            published_by=by,
            **from_pool(pool).values(),
        )


@transaction.atomic
def publish_rule_version(
    *, pool: Pool, effective_on: dt.date, values: dict, note: str, by
) -> RuleVersion:
    """Publish a new version of the pool's rules: an operator's, at least 30 days ahead in the
    pool's calendar, changing something. Members of the pool are told in-app and by email."""
    if not has_role(by, OPERATORS):
        raise PermissionDenied(_("Only an operator may publish a pool's rules."))
    pool = Pool.objects.select_for_update().get(pk=pool.pk)  # one publication at a time
    if WindDown.objects.filter(pool=pool).exists():
        raise ValidationError(
            _("This pool is closing: its rules no longer change."), code="winding_down"
        )
    earliest = earliest_effective_on(pool)
    if effective_on < earliest:
        raise ValidationError(
            _(
                "A rule change is announced at least %(days)s days ahead: the earliest "
                "effective date is %(earliest)s (today is %(today)s in the pool's calendar)."
            )
            % {"days": NOTICE_OF_CHANGE_DAYS, "earliest": earliest, "today": pool.today()},
            code="too_soon",
        )
    if RuleVersion.objects.filter(pool=pool, effective_on=effective_on).exists():
        raise ValidationError(
            _("A version of these rules already takes effect on %(day)s.") % {"day": effective_on},
            code="same_day",
        )
    rules = check_rule_values(values)
    if not differences(replaced_by(pool, effective_on), rules):
        raise ValidationError(_("These rules are the same as the version they follow."), "same")
    version = RuleVersion.objects.create(
        pool=pool,
        effective_on=effective_on,
        published_at=timezone.now(),
        published_by=by,
        note=(note or "").strip(),
        **rules.values(),
    )
    evidence_log.append(
        "rules.publish",
        {"pool": pool.pk, "version": version.pk, "effective_on": effective_on.isoformat()},
    )
    notify_members_of_change(version)
    return version


def notice_text(version: RuleVersion) -> str:
    """The notice of a change, written once for every member: in each language."""
    return in_every_language(
        lambda: (
            _(
                "The rules of %(pool)s change on %(day)s (see the pool's rules page). You "
                "may withdraw before then and owe no batch published after you leave."
            )
            % {"pool": version.pool.display_name, "day": version.effective_on.isoformat()}
        )
    )


def notify_members_of_change(version: RuleVersion) -> int:
    """Every account with an open membership of the pool is told (set-based: notify_many)."""
    accounts = Person.objects.filter(
        memberships__pool=version.pool_id, memberships__status__in=Membership.OPEN_STATUSES
    ).values_list("account_id")
    return notify_many(accounts, notice_text(version))


def _cached(rules: Rules) -> dict:
    """What of the rules the pool row holds: its numbers, bands and covered conditions."""
    values = rules.values()
    return {name: values[name] for name in (*CACHED_ON_POOL, "condition_codes", "benefit_schedule")}


def apply_due_versions(*, now: dt.datetime | None = None) -> int:
    """Copy the version in force today (each pool's calendar) onto each pool row whose cache
    differs: its numbers, benefit bands and covered conditions. Idempotent; correct when late."""
    now = now or timezone.now()
    applied = 0
    for pool in Pool.objects.all():
        version = version_on(pool, pool.date_of(now))
        if version is None or _cached(from_version(version)) == _cached(from_pool(pool)):
            continue
        rules = from_version(version)
        with transaction.atomic():
            Pool.objects.select_for_update().filter(pk=pool.pk).update(
                **{name: getattr(rules, name) for name in CACHED_ON_POOL}
            )
            BenefitBand.objects.filter(pool=pool).delete()
            BenefitBand.objects.bulk_create(
                BenefitBand(pool=pool, min_age=low, max_age=high, payout_cents=payout)
                for low, high, payout in rules.benefit_schedule
            )
            pool.conditions.set(Condition.objects.filter(code__in=rules.condition_codes))
        applied += 1
    if applied:  # an UPDATE sends no signal: every page showing a pool's rules
        pagecache.bump(pagecache.MEMBERS, pagecache.POOLS, pagecache.NOTICE, pagecache.REPORTS)
    return applied
