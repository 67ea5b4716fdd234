"""A pool's rules over time (SPEC 11, versioned rules): the one home of every number SPEC names
for a pool, and what each version changed.

`rules_on(pool, day)` answers "which rules judge this?": a claim is judged by the version in
force on its diagnosis date (submit checks, payout, notice and panel). Versions are published
by pools.rule_changes; the pool row caches the version in force today, so the batch engine and
the pool pages keep reading the pool's fields.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from pools.models import BenefitBand, Condition, Pool, RuleVersion

# The numbers a rule version and its pool row share: the row caches the version in force.
CACHED_ON_POOL = (
    "min_join_age_days",
    "max_join_age_years",
    "exit_age_years",
    "waiting_days",
    "fee_rate_bp",
    "annual_cap_cents",
    "grace_days",
    "reinstate_days",
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
    reinstate_days: int
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
    if name == "min_join_age_days" and value >= 365 and value % 365 == 0:
        return _("%(days)s (%(years)s years old)") % {"days": value, "years": value // 365}
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
