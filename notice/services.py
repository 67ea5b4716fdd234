"""Notice, objection, appeal and panel rules (SPEC 4). Views, API and admin call these."""

import datetime
import random
import secrets
from datetime import datetime as dt_type

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims import workflow
from claims.models import Claim
from claims.notifications import notify
from members.ages import born_by
from members.models import Membership, Person
from notice import claim_transitions, evidence
from notice.models import (
    MAX_REASON,
    MIN_REASON,
    Appeal,
    Juror,
    JuryVolunteer,
    Objection,
    Panel,
    Vote,
)
from pools.rules import rules_for

# The panel's numbers (size, vote minimum, voting days, juror age and seniority) and the appeal
# window are the claim's pool's rules in force on its diagnosis date: pools.rules.rules_for.


def is_active_member(user) -> bool:
    return Membership.objects.filter(person__account=user, status=Membership.Status.ACTIVE).exists()


def file_objection(claim: Claim, user, reason: str, now: dt_type | None = None) -> Objection:
    now = now or timezone.now()
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError(
            _("The reason must be at least %(n)d characters.") % {"n": MIN_REASON}
        )
    if len(reason) > MAX_REASON:
        raise ValidationError(_("The reason may be at most %(n)d characters.") % {"n": MAX_REASON})
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != Claim.Status.PUBLIC_NOTICE:
            raise ValidationError(_("This claim is not on public notice."))
        if claim.notice_ends_at is not None and now >= claim.notice_ends_at:
            raise ValidationError(_("The notice period of this claim has ended."))
        if claim.claimant_id == user.pk:
            raise ValidationError(_("You cannot object to a claim of your own account."))
        if not is_active_member(user):
            raise ValidationError(_("Only active members may object."))
        if Objection.objects.filter(claim=claim, member=user).exists():
            raise ValidationError(_("You have already objected to this claim."))
        try:
            with transaction.atomic():
                obj = Objection.objects.create(claim=claim, member=user, reason=reason)
        except IntegrityError as exc:
            raise ValidationError(_("You have already objected to this claim.")) from exc
        evidence.record("objection", {"claim": claim.pk, "objection": obj.pk, "reason": reason})
    return obj


def juror_strata(claim: Claim, today: datetime.date | None = None) -> tuple[list[int], list[int]]:
    """The claim's eligible jurors as two id-sorted strata: its own pool first, then the rest.

    Eligible (SPEC 4): an account that volunteered and accepted the jury rules, whose own person
    (the account holder, not a family member) is 18 or older and holds a membership `active`
    for at least 30 days, and that is not the claimant's account. Conflict checks: nobody who
    objected to the claim and neither of its reviewers (investigator, adjudicator) sits on it.

    "Stratified by pool" is read as: the members who share a claim's cost judge it first. Seats
    go to volunteers with such a membership in the claim's pool; only when that stratum has
    fewer volunteers than seats are the remaining seats drawn from the eligible volunteers of
    the other pools. draw() takes the strata in this order.
    """
    today = today or timezone.localdate()
    rules = rules_for(claim)
    rows = (
        Membership.objects.filter(
            status=Membership.Status.ACTIVE,
            active_since__lte=today - datetime.timedelta(days=rules.juror_active_days),
            person__relationship=Person.Relationship.SELF,
            person__birth_date__lte=born_by(today, rules.juror_min_age),
            person__account__jury_volunteer__accepted_rules_at__isnull=False,
        )
        .exclude(person__account=claim.claimant_id)
        .exclude(person__account__in=conflicted_accounts(claim))
        .values_list("person__account", "pool_id")
        .distinct()
    )
    own_pool, everyone = set(), set()
    for account_id, pool_id in rows:
        everyone.add(account_id)
        if pool_id == claim.pool_id:
            own_pool.add(account_id)
    return sorted(own_pool), sorted(everyone - own_pool)


def conflicted_accounts(claim: Claim) -> list[int]:
    """Accounts with a stake in the claim's review besides the claimant's."""
    reviewers = [claim.investigator_id, claim.adjudicator_id]
    objectors = Objection.objects.filter(claim=claim).values_list("member_id", flat=True)
    return [pk for pk in [*reviewers, *objectors] if pk is not None]


def eligible_juror_ids(claim: Claim, today: datetime.date | None = None) -> list[int]:
    """Account ids eligible for the claim's panel, ordered by id."""
    return sorted(id_ for stratum in juror_strata(claim, today) for id_ in stratum)


def draw(strata, seed: int, k: int) -> list[int]:
    """Reproducible stratified draw: one random.Random(seed) samples each id-sorted stratum in
    turn until k seats are filled. The same strata and seed always give the same jurors."""
    rng = random.Random(seed)
    chosen = []
    for stratum in strata:
        ids = sorted(stratum)
        chosen += rng.sample(ids, min(k - len(chosen), len(ids)))
    return sorted(chosen)


def draw_panel(claim: Claim, seed: int | None = None, now: dt_type | None = None) -> Panel:
    """Draw a claim's panel from juror_strata() with a stored seed; invite each juror in-app and,
    after commit, by email."""
    now = now or timezone.now()
    seed = secrets.randbits(62) if seed is None else seed
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != Claim.Status.PANEL_REVIEW:
            raise ValidationError(_("Only a claim in panel review gets a panel."))
        if Panel.objects.filter(claim=claim, status=Panel.Status.VOTING).exists():
            raise ValidationError(_("This claim already has a panel voting."))
        rules = rules_for(claim)
        strata = juror_strata(claim, now.date())
        chosen = draw(strata, seed, rules.panel_size)
        panel = Panel.objects.create(
            claim=claim,
            seed=seed,
            drawn_at=now,
            deadline=now + datetime.timedelta(days=rules.vote_days),
        )
        Juror.objects.bulk_create([Juror(panel=panel, user_id=u) for u in chosen])
        evidence.record(
            "panel_draw",
            {
                "claim": claim.pk,
                "panel": panel.pk,
                "seed": seed,
                "candidates": [len(stratum) for stratum in strata],
                "jurors": chosen,
            },
        )
        deadline = f"{timezone.localtime(panel.deadline):%Y-%m-%d %H:%M %Z}"

        def message():
            return _(
                "You were drawn for the panel on case #%(id)s. Please read the case and vote by "
                "%(deadline)s."
            ) % {"id": claim.pk, "deadline": deadline}

        for user_id in chosen:
            notify(user_id, message)
    return panel


def close_ended_notices(now: dt_type | None = None) -> dict:
    """Close every notice that has ended; safe to run twice and late."""
    now = now or timezone.now()
    ended = Claim.objects.filter(status=Claim.Status.PUBLIC_NOTICE, notice_ends_at__lte=now)
    objected = list(ended.filter(objections__isnull=False).values_list("pk", flat=True).distinct())
    approved = 0
    for pk in ended.exclude(pk__in=objected).values_list("pk", flat=True):
        try:
            claim_transitions.notice_to_approved(pk)
            approved += 1
        except claim_transitions.TransitionError:
            continue
    for pk in objected:
        with transaction.atomic():
            try:
                claim_transitions.notice_to_panel(pk)
            except claim_transitions.TransitionError:
                continue
            draw_panel(Claim.objects.get(pk=pk), now=now)
    return {"approved": approved, "panel": len(objected)}


def rejected_at(claim: Claim) -> dt_type | None:
    """When the claim was last rejected (its rejection event), or None."""
    event = claim.events.filter(to_status=Claim.Status.REJECTED).order_by("-at").first()
    return event.at if event else None


def appeal_deadline(claim: Claim) -> dt_type | None:
    """When the claimant's right to appeal the claim's rejection ends (None: not appealable)."""
    if claim.status != Claim.Status.REJECTED or claim.first_diagnosed_on:
        return None
    if Appeal.objects.filter(claim=claim).exists():
        return None
    rejected = rejected_at(claim)
    return rejected + datetime.timedelta(days=rules_for(claim).appeal_days) if rejected else None


def appeal_problem(
    claim: Claim, now: dt_type | None = None, rejected: dt_type | None = None
) -> str | None:
    """Why the claim's rejection cannot be appealed now, or None (SPEC 4: once, within 14 days).
    Not open to an illness an investigator confirmed was first diagnosed in the observation
    period: that membership has ended and its shares were refunded. `rejected` defaults to the
    rejection event's time."""
    now = now or timezone.now()
    if claim.first_diagnosed_on:
        return _("An illness first diagnosed in the observation period is not covered: no appeal.")
    if Appeal.objects.filter(claim=claim).exists():
        return _("This claim has already been appealed.")
    rejected = rejected or rejected_at(claim) or now
    if now > rejected + datetime.timedelta(days=rules_for(claim).appeal_days):
        return _("The appeal period has ended.")
    return None


def appeal(
    claim: Claim, user, reason: str, rejected: dt_type | None = None, now: dt_type | None = None
) -> Panel:
    """The claimant appeals a rejection with a reason; a panel is drawn. Returns the panel."""
    if not (reason or "").strip():
        raise ValidationError(_("A reason is required."))
    workflow.perform(claim, "appeal", user=user, note=reason, now=now, rejected=rejected)
    return Panel.objects.filter(claim=claim).latest("pk")


def open_appeal_panel(claim: Claim, reason: str, now: dt_type | None = None) -> Panel:
    """Part of the `appeal` transition (claims.workflow): the appeal's record and its panel."""
    Appeal.objects.create(claim=claim, reason=reason.strip())
    return draw_panel(claim, now=now)


def volunteer_for_panels(user, rules_accepted: bool) -> JuryVolunteer:
    """The member volunteers for panels, having read and accepted the jury rules. Idempotent."""
    if not rules_accepted:
        raise ValidationError(_("Please read and accept the jury rules."), code="rules")
    with transaction.atomic():
        volunteer, _created = JuryVolunteer.objects.select_for_update().get_or_create(user=user)
        if volunteer.accepted_rules_at is None:
            volunteer.accepted_rules_at = timezone.now()
            volunteer.save(update_fields=["accepted_rules_at"])
    return volunteer


def withdraw_from_panels(user) -> JuryVolunteer | None:
    """No more draws for this member; panels they already sit on stay theirs. Idempotent."""
    with transaction.atomic():
        volunteer = JuryVolunteer.objects.select_for_update().filter(user=user).first()
        if volunteer is not None and volunteer.accepted_rules_at is not None:
            volunteer.accepted_rules_at = None
            volunteer.save(update_fields=["accepted_rules_at"])
    return volunteer


def cast_vote(panel: Panel, user, choice: str, reason: str, now: dt_type | None = None) -> Vote:
    """A juror's one vote, with a reason that is published without their name. The last juror's
    vote closes the panel at once."""
    now = now or timezone.now()
    if not (reason or "").strip():
        raise ValidationError(_("A reason is required."))
    if choice not in Panel.Outcome.values:
        raise ValidationError(_("Choose approve or reject."))
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel.pk)
        if not panel.accepts_votes(now):
            raise ValidationError(
                _("Voting on this panel closed at %(deadline)s: your vote was not recorded.")
                % {"deadline": f"{timezone.localtime(panel.deadline):%Y-%m-%d %H:%M %Z}"},
                code="closed",
            )
        juror = Juror.objects.filter(panel=panel, user=user).first()
        if juror is None:
            raise ValidationError(_("You are not a juror on this panel."))
        if Vote.objects.filter(juror=juror).exists():
            raise ValidationError(_("You have already voted."))
        vote = Vote.objects.create(juror=juror, choice=choice, reason=reason.strip())
        evidence.record("vote", {"panel": panel.pk, "choice": choice, "reason": vote.reason})
        _close_if_done(panel, now)
    return vote


def tally(approve: int, reject: int, *, min_votes: int) -> str | None:
    """Majority of votes cast; fewer than the pool's vote minimum (5) or a tie -> adjudicator
    (None)."""
    if approve + reject < min_votes or approve == reject:
        return None
    return Panel.Outcome.APPROVE if approve > reject else Panel.Outcome.REJECT


def _close_if_done(panel, now):
    """Decide a locked voting panel once every juror voted or its deadline passed."""
    counts = Panel.objects.with_vote_counts().values("seats", "approve", "reject").get(pk=panel.pk)
    approve, reject = counts["approve"], counts["reject"]
    if approve + reject < counts["seats"] and now <= panel.deadline:
        return panel
    outcome = tally(approve, reject, min_votes=rules_for(panel.claim).min_votes)
    if outcome is None:
        panel.status = Panel.Status.NEEDS_ADJUDICATOR
    else:
        panel.status, panel.outcome = Panel.Status.DECIDED, outcome
        if outcome == Panel.Outcome.APPROVE:
            claim_transitions.panel_to_approved(panel.claim_id)
        else:
            claim_transitions.panel_to_rejected(panel.claim_id)
    panel.save(update_fields=["status", "outcome"])
    evidence.record(
        "panel_decision",
        {"panel": panel.pk, "approve": approve, "reject": reject, "outcome": panel.outcome},
    )
    return panel


def close_panel(panel: Panel, now: dt_type | None = None) -> Panel:
    """Decide a panel whose voting ended (or is complete). Idempotent: only a voting panel moves."""
    now = now or timezone.now()
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel.pk)
        if panel.status != Panel.Status.VOTING:
            return panel
        return _close_if_done(panel, now)


def close_ended_panels(now: dt_type | None = None) -> dict:
    """Close every panel whose voting time is over; safe to run twice and late."""
    now = now or timezone.now()
    ended = Panel.objects.filter(status=Panel.Status.VOTING, deadline__lt=now)
    closed = [close_panel(panel, now) for panel in ended.order_by("pk")]
    return {"closed": len(closed)}


def panel_awaiting_adjudicator(claim: Claim) -> Panel | None:
    """The claim's panel that could not decide (fewer than 5 votes or a tie), or None."""
    return Panel.objects.filter(claim=claim, status=Panel.Status.NEEDS_ADJUDICATOR).first()


def adjudicate_panel(
    panel: Panel, outcome: str, user, note: str, now: dt_type | None = None
) -> Panel:
    """An adjudicator decides a claim whose panel could not, with the same role and four-eyes
    rules as their other decisions and a required note (the `decide_*` transitions)."""
    if outcome not in Panel.Outcome.values:
        raise ValidationError(_("Choose approve or reject."))
    workflow.perform(panel.claim, f"decide_{outcome}", user=user, note=note)
    panel.refresh_from_db()
    return panel


def record_adjudication(claim: Claim, outcome: str, user) -> Panel:
    """Part of the `decide_*` transitions (claims.workflow): the panel is decided."""
    panel = Panel.objects.select_for_update().get(
        claim=claim, status=Panel.Status.NEEDS_ADJUDICATOR
    )
    panel.status, panel.outcome = Panel.Status.DECIDED, outcome
    panel.save(update_fields=["status", "outcome"])
    evidence.record("panel_adjudicated", {"panel": panel.pk, "outcome": outcome, "actor": user.pk})
    return panel


# --- the claim workflow's rules that live here ----------------------------------------------


def _appeal_open(claim, now=None, rejected=None, **details):
    problem = appeal_problem(claim, now=now, rejected=rejected)
    if problem:
        raise ValidationError(problem, code="appeal")


def _panel_needs_adjudicator(claim, **details):
    if panel_awaiting_adjudicator(claim) is None:
        raise ValidationError(
            _("Only a claim whose panel could not decide is decided by an adjudicator."),
            code="panel",
        )


def _after_appeal(claim, user, note, now, **details):
    open_appeal_panel(claim, reason=note, now=details.get("now") or now)


def _after_decision(outcome):
    def record(claim, user, note, now, **details):
        record_adjudication(claim, outcome=outcome, user=user)

    return record


workflow.register("appeal", guard=_appeal_open, after=_after_appeal)
workflow.register(
    "decide_approve", guard=_panel_needs_adjudicator, after=_after_decision("approve")
)
workflow.register("decide_reject", guard=_panel_needs_adjudicator, after=_after_decision("reject"))
