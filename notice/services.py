"""Notice, objection, appeal and panel rules (SPEC 4). Views, API and admin call these."""

import datetime
import random
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.models import Claim
from members.models import Membership, Person
from notice import claim_transitions, evidence
from notice.models import MIN_REASON, Appeal, Juror, JuryVolunteer, Objection, Panel, Vote

PANEL_SIZE = 9
MIN_VOTES = 5
VOTE_DAYS = 3
APPEAL_DAYS = 14
ACTIVE_DAYS = 30
MIN_AGE = 18


def is_active_member(user):
    return Membership.objects.filter(person__account=user, status=Membership.Status.ACTIVE).exists()


def file_objection(claim, user, reason):
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError(
            _("The reason must be at least %(n)d characters.") % {"n": MIN_REASON}
        )
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != Claim.Status.PUBLIC_NOTICE:
            raise ValidationError(_("This claim is not on public notice."))
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


def eligible_juror_ids(claim, today=None):
    """Account ids eligible for the claim's panel, ordered by id."""
    today = today or timezone.localdate()
    adult_born_by = (
        today.replace(year=today.year - MIN_AGE)
        if not (today.month == 2 and today.day == 29)
        else today.replace(year=today.year - MIN_AGE, day=28)
    )
    active_accounts = Membership.objects.filter(
        status=Membership.Status.ACTIVE,
        active_since__lte=today - datetime.timedelta(days=ACTIVE_DAYS),
    ).values("person__account")
    adults = Person.objects.filter(
        relationship=Person.Relationship.SELF, birth_date__lte=adult_born_by
    ).values("account")
    return list(
        JuryVolunteer.objects.filter(
            accepted_rules_at__isnull=False,
            user_id__in=active_accounts,
        )
        .filter(user_id__in=adults)
        .exclude(user_id=claim.claimant_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def draw(candidate_ids, seed, k=PANEL_SIZE):
    """Reproducible draw: random.Random(seed).sample over the id-sorted candidates."""
    ids = sorted(candidate_ids)
    return sorted(random.Random(seed).sample(ids, min(k, len(ids))))


def draw_panel(claim, seed=None, now=None):
    now = now or timezone.now()
    seed = secrets.randbits(62) if seed is None else seed
    chosen = draw(eligible_juror_ids(claim, now.date()), seed)
    panel = Panel.objects.create(
        claim=claim, seed=seed, drawn_at=now, deadline=now + datetime.timedelta(days=VOTE_DAYS)
    )
    Juror.objects.bulk_create([Juror(panel=panel, user_id=u) for u in chosen])
    evidence.record("panel_draw", {"claim": claim.pk, "panel": panel.pk, "seed": seed})
    return panel


def close_ended_notices(now=None):
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


def appeal(claim, user, reason, rejected_at, now=None):
    now = now or timezone.now()
    if claim.claimant_id != user.pk:
        raise ValidationError(_("Only the claimant may appeal."))
    if not (reason or "").strip():
        raise ValidationError(_("A reason is required."))
    if now > rejected_at + datetime.timedelta(days=APPEAL_DAYS):
        raise ValidationError(_("The appeal period has ended."))
    with transaction.atomic():
        if Appeal.objects.filter(claim=claim).exists():
            raise ValidationError(_("This claim has already been appealed."))
        claim_transitions.rejected_to_panel(claim.pk)
        Appeal.objects.create(claim=claim, reason=reason.strip())
        return draw_panel(claim, now=now)


def cast_vote(panel, user, choice, reason, now=None):
    now = now or timezone.now()
    if not (reason or "").strip():
        raise ValidationError(_("A reason is required."))
    if choice not in Panel.Outcome.values:
        raise ValidationError(_("Choose approve or reject."))
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel.pk)
        if panel.status != Panel.Status.VOTING or now > panel.deadline:
            raise ValidationError(_("Voting on this panel has closed."))
        juror = Juror.objects.filter(panel=panel, user=user).first()
        if juror is None:
            raise ValidationError(_("You are not a juror on this panel."))
        if Vote.objects.filter(juror=juror).exists():
            raise ValidationError(_("You have already voted."))
        vote = Vote.objects.create(juror=juror, choice=choice, reason=reason.strip())
        evidence.record("vote", {"panel": panel.pk, "choice": choice, "reason": vote.reason})
    return vote


def tally(approve, reject):
    """Majority of votes cast; fewer than 5 cast or a tie -> adjudicator (None)."""
    if approve + reject < MIN_VOTES or approve == reject:
        return None
    return Panel.Outcome.APPROVE if approve > reject else Panel.Outcome.REJECT


def close_panel(panel, now=None):
    """Decide a panel whose voting ended (or is complete). Idempotent: only a voting panel moves."""
    now = now or timezone.now()
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel.pk)
        if panel.status != Panel.Status.VOTING:
            return panel
        votes = Vote.objects.filter(juror__panel=panel)
        approve = votes.filter(choice=Panel.Outcome.APPROVE).count()
        reject = votes.filter(choice=Panel.Outcome.REJECT).count()
        if approve + reject < panel.jurors.count() and now <= panel.deadline:
            return panel
        outcome = tally(approve, reject)
        if outcome is None:
            panel.status = Panel.Status.NEEDS_ADJUDICATOR
        else:
            panel.status, panel.outcome = Panel.Status.DECIDED, outcome
            if outcome == Panel.Outcome.APPROVE:
                claim_transitions.panel_to_approved(panel.claim_id, approved_at=now)
            else:
                claim_transitions.panel_to_rejected(panel.claim_id)
        panel.save(update_fields=["status", "outcome"])
        evidence.record(
            "panel_decision",
            {"panel": panel.pk, "approve": approve, "reject": reject, "outcome": panel.outcome},
        )
    return panel


def adjudicate_panel(panel, outcome, now=None):
    """An adjudicator decides a panel that could not (fewer than 5 votes or a tie)."""
    now = now or timezone.now()
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel.pk)
        if panel.status != Panel.Status.NEEDS_ADJUDICATOR:
            raise ValidationError(_("This panel does not need an adjudicator."))
        if outcome == Panel.Outcome.APPROVE:
            claim_transitions.panel_to_approved(panel.claim_id, approved_at=now)
        else:
            claim_transitions.panel_to_rejected(panel.claim_id)
        panel.status, panel.outcome = Panel.Status.DECIDED, outcome
        panel.save(update_fields=["status", "outcome"])
        evidence.record("panel_adjudicated", {"panel": panel.pk, "outcome": outcome})
    return panel
