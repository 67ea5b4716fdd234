"""The claim state machine of SPEC 4: one transition table, one service per transition.

Every transition locks the claim row, checks the current state, the role and the four-eyes
rules, writes a ClaimEvent and an evidence-log record in the same transaction. A second
reviewer acting on the same claim at the same time waits for the lock, then finds the state
changed and gets a clear "already decided" error.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims import evidence_log
from claims.models import Claim, ClaimEvent
from claims.notifications import notify_claimant

S = Claim.Status
CLAIMANT, INVESTIGATOR, ADJUDICATOR, SYSTEM = "claimant", "investigators", "adjudicators", "system"


@dataclass(frozen=True)
class Transition:
    sources: tuple
    target: str
    role: str
    note_required: bool = False


TRANSITIONS = {
    "submit": Transition((S.DRAFT,), S.SUBMITTED, CLAIMANT),
    "assign": Transition((S.SUBMITTED,), S.INVESTIGATING, INVESTIGATOR),
    "report": Transition((S.INVESTIGATING,), S.INVESTIGATED, INVESTIGATOR, note_required=True),
    "request_info": Transition(
        (S.INVESTIGATING, S.INVESTIGATED), S.NEEDS_INFO, INVESTIGATOR, note_required=True
    ),
    "resubmit": Transition((S.NEEDS_INFO,), S.INVESTIGATING, CLAIMANT),
    "approve": Transition((S.INVESTIGATED,), S.PUBLIC_NOTICE, ADJUDICATOR),
    "reject": Transition((S.INVESTIGATED,), S.REJECTED, ADJUDICATOR, note_required=True),
    # The investigator confirms the illness was first diagnosed in the observation period: the
    # claim is refused and the membership ends (SPEC 3). Needs `first_diagnosed_on`.
    "end_in_waiting": Transition(
        (S.INVESTIGATING, S.INVESTIGATED), S.REJECTED, INVESTIGATOR, note_required=True
    ),
    "withdraw": Transition((S.SUBMITTED, S.NEEDS_INFO), S.WITHDRAWN, CLAIMANT),
    "close_notice": Transition((S.PUBLIC_NOTICE,), S.APPROVED, SYSTEM),
    "object": Transition((S.PUBLIC_NOTICE,), S.PANEL_REVIEW, SYSTEM),
    # The appeal's rules (claimant only, once, within 14 days, a reason) live in notice.services.
    "appeal": Transition((S.REJECTED,), S.PANEL_REVIEW, SYSTEM),
    "panel_approve": Transition((S.PANEL_REVIEW,), S.APPROVED, SYSTEM),
    "panel_reject": Transition((S.PANEL_REVIEW,), S.REJECTED, SYSTEM),
}


def has_role(user, role: str) -> bool:
    return user is not None and user.is_staff and user.groups.filter(name=role).exists()


def allowed_actions(claim: Claim, user) -> list[str]:
    """The transitions this user may make on this claim now (the admin shows exactly these)."""
    actions = []
    for name, transition in TRANSITIONS.items():
        if claim.status in transition.sources and transition.role != SYSTEM:
            try:
                check_actor(claim, user, name, transition)
            except (PermissionDenied, ValidationError):
                continue
            actions.append(name)
    return actions


def check_actor(claim: Claim, user, name: str, transition: Transition):
    if transition.role == SYSTEM:
        return
    if transition.role == CLAIMANT:
        if user is None or claim.claimant_id != user.pk:
            raise PermissionDenied(_("Only the claimant may do this."))
        return
    if not has_role(user, transition.role):
        raise PermissionDenied(_("This needs the %(role)s role.") % {"role": transition.role})
    if claim.claimant_id == user.pk:
        raise PermissionDenied(_("Staff never work on a claim of their own account or family."))
    assigned_elsewhere = claim.investigator_id not in (None, user.pk)
    if name in ("report", "request_info", "end_in_waiting") and assigned_elsewhere:
        raise PermissionDenied(_("This claim is assigned to another investigator."))
    if transition.role == ADJUDICATOR and claim.investigator_id == user.pk:
        raise PermissionDenied(_("Four eyes: the investigator of a claim cannot also decide it."))


@transaction.atomic
def transition(claim: Claim, name: str, user=None, note: str = "", **details) -> Claim:
    """Run one transition of TRANSITIONS on the claim, or raise with a clear reason.

    `details` carries what a transition needs beyond a note (end_in_waiting: first_diagnosed_on).
    """
    rule = TRANSITIONS[name]
    claim = (
        Claim.objects.select_for_update()
        .select_related("pool", "membership__person")
        .get(pk=claim.pk)
    )
    if claim.status not in rule.sources:
        raise ValidationError(
            _("Already decided: this claim is now %(status)s.")
            % {"status": claim.get_status_display()},
            code="already_decided",
        )
    check_actor(claim, user, name, rule)
    note = (note or "").strip()
    if rule.note_required and not note:
        raise ValidationError(_("Please write a note: it is required here."), code="note")
    source = claim.status
    now = timezone.now()
    APPLY.get(name, lambda *args, **kwargs: None)(claim, user, note, now, **details)
    claim.status = rule.target
    claim.save()
    ClaimEvent.objects.create(
        claim=claim, action=name, from_status=source, to_status=rule.target, actor=user, note=note
    )
    evidence_log.append(
        "claim." + name,
        {"claim": claim.pk, "from": source, "to": rule.target, "actor": user.pk if user else None},
    )
    # The claimant hears of every change made by someone else, and gets a receipt on submit.
    if user is None or user.pk != claim.claimant_id or name == "submit":
        notify_claimant(claim, name)
    return claim


def _submit(claim, user, note, now, **details):
    from claims.services import submission_problems

    problems = submission_problems(claim)
    if problems:
        raise ValidationError(problems, code="checks")
    claim.submitted_at = now


def _assign(claim, user, note, now, **details):
    claim.investigator = user


def _report(claim, user, note, now, **details):
    claim.investigation_report = note


def _approve(claim, user, note, now, **details):
    person = claim.membership.person
    payout = claim.pool.payout_for_age(person.age_on(claim.diagnosis_date))
    if payout is None:
        raise ValidationError(_("The benefit schedule has no payout for this age."))
    claim.adjudicator = user
    claim.payout_cents = payout
    claim.notice_ends_at = now + dt.timedelta(days=claim.pool.notice_days)


def _reject(claim, user, note, now, **details):
    claim.adjudicator = user


def _end_in_waiting(claim, user, note, now, first_diagnosed_on=None, **details):
    from members.services import end_in_waiting

    membership = claim.membership
    if claim.cause != Claim.Cause.ILLNESS:
        raise ValidationError(_("Accidents are covered from the first day."))
    if first_diagnosed_on is None:
        raise ValidationError(_("Please give the date the illness was first diagnosed."))
    if not membership.joined_at.date() <= first_diagnosed_on < membership.waiting_ends_on:
        raise ValidationError(
            _("%(day)s is not in this membership's observation period (%(start)s to %(end)s).")
            % {
                "day": first_diagnosed_on,
                "start": membership.joined_at.date(),
                "end": membership.waiting_ends_on,
            }
        )
    claim.first_diagnosed_on = first_diagnosed_on
    end_in_waiting(membership, user, f"claim {claim.pk}: illness first diagnosed on "
                   f"{first_diagnosed_on}, in the observation period")


def _approved(claim, user, note, now, **details):
    claim.approved_at = now


APPLY = {
    "submit": _submit,
    "assign": _assign,
    "report": _report,
    "approve": _approve,
    "reject": _reject,
    "end_in_waiting": _end_in_waiting,
    "close_notice": _approved,
    "panel_approve": _approved,
}
