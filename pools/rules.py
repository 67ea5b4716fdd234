"""A pool's rules over time (SPEC 11, versioned rules): the one home of every number SPEC names
for a pool.

`rules_on(pool, day)` answers "which rules judge this?": a claim is judged by the version in
force on its diagnosis date (submit checks, payout, notice and panel). A change is published at
least 30 days ahead in the pool's calendar, members are told at once (in-app and by email) and
may withdraw before it takes effect: a withdrawn membership takes part in no later batch. The
pool row caches the version in force today (`apply_due_versions`, hourly), so the batch engine
and the pool pages keep reading the pool's fields.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mutualaid.roles import OPERATORS, has_role
from pools.models import BenefitBand, Condition, Pool, RuleVersion

# SPEC 11: a rule change is announced at least this many days before it takes effect.
NOTICE_OF_CHANGE_DAYS = 30
# The numbers a rule version and its pool row share: the row caches the version in force.
CACHED_ON_POOL = (
    "min_join_age_days",
    "max_join_age_years",
    "exit_age_years",
    "waiting_days",
    "fee_rate_bp",
    "annual_cap_cents",
    "grace_days",
    "notice_days",
)
# Every number of a version, in the order pages show them.
NUMBERS = (
    *CACHED_ON_POOL,
    "appeal_days",
    "panel_size",
    "min_votes",
    "vote_days",
    "juror_min_age",
    "juror_active_days",
)


@dataclass(frozen=True)
class Rules:
    """A pool's rules on a day: what a claim, a panel or a join is judged by."""

    effective_on: dt.date | None
    condition_codes: frozenset[str]
    benefit_schedule: tuple[tuple[int, int, int], ...]  # (min_age, max_age, payout_cents)
    min_join_age_days: int
    max_join_age_years: int
    exit_age_years: int
    waiting_days: int
    fee_rate_bp: int
    annual_cap_cents: int
    grace_days: int
    notice_days: int
    appeal_days: int
    panel_size: int
    min_votes: int
    vote_days: int
    juror_min_age: int
    juror_active_days: int

    def covers(self, condition: Condition) -> bool:
        return condition.code in self.condition_codes

    def payout_for_age(self, age_years: int) -> int | None:
        """Payout in cents at this age at diagnosis, or None if no band covers it."""
        for low, high, payout in self.benefit_schedule:
            if low <= age_years <= high:
                return payout
        return None

    def values(self) -> dict:
        """The version's fields as a RuleVersion takes them (JSON-ready coverage)."""
        values = {name: getattr(self, name) for name in NUMBERS}
        values["condition_codes"] = sorted(self.condition_codes)
        values["benefit_schedule"] = [list(band) for band in self.benefit_schedule]
        return values


def from_version(version: RuleVersion) -> Rules:
    return Rules(
        effective_on=version.effective_on,
        condition_codes=frozenset(version.condition_codes),
        benefit_schedule=tuple(tuple(band) for band in version.benefit_schedule),
        **{name: getattr(version, name) for name in NUMBERS},
    )


def spec_default(name: str) -> int:
    """SPEC's value of a number, a new pool's until it publishes its own."""
    return RuleVersion._meta.get_field(name).get_default()


def from_pool(pool: Pool) -> Rules:
    """The rules of a pool no version was published for yet (a pool just created): its row,
    and SPEC's defaults for the numbers the row does not hold."""
    defaults = {name: spec_default(name) for name in NUMBERS if name not in CACHED_ON_POOL}
    return Rules(
        effective_on=None,
        condition_codes=frozenset(pool.conditions.values_list("code", flat=True)),
        benefit_schedule=tuple(
            BenefitBand.objects.filter(pool=pool)
            .order_by("min_age")
            .values_list("min_age", "max_age", "payout_cents")
        ),
        **{name: getattr(pool, name) for name in CACHED_ON_POOL},
        **defaults,
    )


def version_on(pool: Pool | int, day: dt.date) -> RuleVersion | None:
    pool_id = pool if isinstance(pool, int) else pool.pk
    return (
        RuleVersion.objects.filter(pool_id=pool_id, effective_on__lte=day)
        .order_by("-effective_on")
        .first()
    )


def rules_on(pool: Pool, day: dt.date) -> Rules:
    """The rules in force in the pool on `day` (one query for a pool with versions)."""
    version = version_on(pool, day)
    return from_version(version) if version else from_pool(pool)


def rules_for(claim) -> Rules:
    """The rules that judge a claim: those in force on its diagnosis date (SPEC 11)."""
    return rules_on(claim.pool, claim.diagnosis_date)


def rules_today(pool: Pool) -> Rules:
    return rules_on(pool, pool.today())


# --- the differences between two versions ------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    field: str
    label: str
    before: str
    after: str


def _yuan(cents: int) -> str:
    from mutualaid.templatetags.money import cents as as_yuan

    return f"¥{as_yuan(cents)}"


def describe(name: str, value, names: dict | None = None) -> str:
    """A rule's value in words a member reads (money in yuan, the schedule by age; conditions
    by code and, given `names`, by name)."""
    if name == "condition_codes":
        return conditions_text(value, names)
    if name == "benefit_schedule":
        return "; ".join(f"{low}–{high}: {_yuan(payout)}" for low, high, payout in value) or "—"
    if name == "annual_cap_cents":
        return _yuan(value)
    if name == "fee_rate_bp":
        return f"{value / 100:g} %"
    return str(value)


def conditions_text(codes, names: dict | None = None) -> str:
    names = names or {}
    shown = [f"{code} {names[code]}" if code in names else code for code in sorted(codes)]
    return ", ".join(shown) or "—"


def label(name: str) -> str:
    return str(RuleVersion._meta.get_field(name).verbose_name)


def differences(before: Rules | None, after: Rules, names: dict | None = None) -> list[Difference]:
    """What `after` changes against `before` (everything when there is no `before`). Covered
    conditions are listed as added and removed, not as two long lists; `names` maps condition
    codes to the names shown with them."""
    old = before.values() if before else {}
    changes = []
    for name in ("condition_codes", "benefit_schedule", *NUMBERS):
        new_value = after.values()[name]
        if name in old and old[name] == new_value:
            continue
        if name == "condition_codes" and before is not None:
            added = sorted(set(new_value) - set(old[name]))
            removed = sorted(set(old[name]) - set(new_value))
            parts = [
                _("added: %(codes)s") % {"codes": conditions_text(added, names)} if added else "",
                _("removed: %(codes)s") % {"codes": conditions_text(removed, names)}
                if removed
                else "",
            ]
            changes.append(Difference(name, label(name), "", "; ".join(filter(None, parts))))
            continue
        changes.append(
            Difference(
                name,
                label(name),
                describe(name, old[name], names) if name in old else "",
                describe(name, new_value, names),
            )
        )
    return changes


@dataclass(frozen=True)
class VersionChanges:
    version: RuleVersion
    rules: Rules
    changes: list[Difference]
    in_force: bool  # the version that judges a diagnosis made today
    scheduled: bool  # published, not in force yet


def history(pool: Pool) -> list[VersionChanges]:
    """Every version of the pool, newest first, each with what it changed against the one
    before (two queries: the versions and the condition names)."""
    versions = list(RuleVersion.objects.filter(pool=pool).order_by("effective_on"))
    codes = {code for version in versions for code in version.condition_codes}
    names = {c.code: c.display_name for c in Condition.objects.filter(code__in=codes)}
    today = pool.today()
    current = max((v.effective_on for v in versions if v.effective_on <= today), default=None)
    rows, previous = [], None
    for version in versions:
        rules = from_version(version)
        rows.append(
            VersionChanges(
                version=version,
                rules=rules,
                changes=differences(previous, rules, names),
                in_force=version.effective_on == current,
                scheduled=version.effective_on > today,
            )
        )
        previous = rules
    return rows[::-1]


# --- drafting and publishing --------------------------------------------------------------------


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
    from claims import evidence_log

    evidence_log.append(
        "rules.publish",
        {"pool": pool.pk, "version": version.pk, "effective_on": effective_on.isoformat()},
    )
    notify_members_of_change(version)
    return version


def notice_text(version: RuleVersion) -> str:
    """The notice of a change, in both languages (a member's language is not stored)."""
    texts = []
    for language in ("en", "zh-hans"):
        with translation.override(language):
            texts.append(
                _(
                    "The rules of %(pool)s change on %(day)s (see the pool's rules page). You "
                    "may withdraw before then and owe no batch published after you leave."
                )
                % {"pool": version.pool.display_name, "day": version.effective_on.isoformat()}
            )
    return " / ".join(texts)[:300]


def notify_members_of_change(version: RuleVersion) -> int:
    """One in-app notification per account with an open membership of the pool, written by one
    INSERT … SELECT; their emails are handed to the broker after commit by one task."""
    from claims.models import Notification
    from members.models import Membership

    text, now = notice_text(version), timezone.now()
    open_statuses = ", ".join(f"'{status}'" for status in Membership.OPEN_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Notification._meta.db_table} (recipient_id, text, created_at)
            SELECT DISTINCT p.account_id, %(text)s, %(now)s
              FROM members_membership m JOIN members_person p ON p.id = m.person_id
             WHERE m.pool_id = %(pool)s AND m.status IN ({open_statuses})
            """,
            {
                "text": text,
                "now": now,
                "pool": version.pool_id,
            },
        )
    # The rows just written (the email outbox's index: unsent, by creation time).
    written = Notification.objects.filter(created_at=now, text=text, emailed_at__isnull=True)
    summary = written.aggregate(count=Count("pk"), first=Min("pk"), last=Max("pk"))
    count, first, last = summary["count"], summary["first"], summary["last"]
    if count:
        from mutualaid import pagecache

        pagecache.bump(pagecache.MEMBERS)  # the notice on every member's dashboard
        from pools.tasks import email_notices

        transaction.on_commit(lambda: email_notices.delay(first, last))
    return count


def apply_due_versions(*, now: dt.datetime | None = None) -> int:
    """Copy the version in force today (each pool's calendar) onto each pool row whose cache
    differs: its numbers, benefit bands and covered conditions. Idempotent; correct when late."""
    now = now or timezone.now()
    applied = 0
    for pool in Pool.objects.all():
        version = version_on(pool, pool.date_of(now))
        if version is None:
            continue
        rules = from_version(version)
        if rules.values() == from_pool(pool).values() | {
            name: rules.values()[name] for name in NUMBERS if name not in CACHED_ON_POOL
        }:
            continue
        with transaction.atomic():
            Pool.objects.filter(pk=pool.pk).update(
                **{name: getattr(rules, name) for name in CACHED_ON_POOL}
            )
            BenefitBand.objects.filter(pool=pool).delete()
            BenefitBand.objects.bulk_create(
                BenefitBand(pool=pool, min_age=low, max_age=high, payout_cents=payout)
                for low, high, payout in rules.benefit_schedule
            )
            pool.conditions.set(Condition.objects.filter(code__in=rules.condition_codes))
        applied += 1
    if applied:
        from mutualaid import pagecache

        pagecache.bump(pagecache.POOLS)
    return applied
