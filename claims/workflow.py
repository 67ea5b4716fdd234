"""The claim state machine of SPEC 4: one transition table, and each transition names its actor.

Two entry points, never mixed:
- `perform()` for requests (claim page, API, admin): only transitions whose actor is a person
  (claimant, investigator, adjudicator); a system transition is refused whatever is posted.
- `run_system()` / `run_system_many()` for the jobs and services that own a system transition
  (the notice closer, the panel tally, the batch engine); they refuse any other transition.

Every move locks the claim row (or updates conditionally, set-based), checks the source state,
the actor and the transition's guard, writes a ClaimEvent and an evidence-log record in the same
transaction. A second reviewer acting on the same claim at the same time waits for the lock, then
finds the state changed and gets a clear "already decided" error.
"""

import datetime as dt
from collections.abc import Callable, Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims import evidence_log
from claims.models import Claim, ClaimEvent
from claims.notifications import notify_claimant
from mutualaid.roles import ADJUDICATORS, INVESTIGATORS, has_role
from mutualaid.transitions import Transition

S = Claim.Status
CLAIMANT, INVESTIGATOR, ADJUDICATOR, SYSTEM = "claimant", INVESTIGATORS, ADJUDICATORS, "system"
STAFF_ROLES = (INVESTIGATOR, ADJUDICATOR)


TRANSITIONS: dict[str, Transition] = {
    # The claimant's.
    "submit": Transition((S.DRAFT,), S.SUBMITTED, CLAIMANT, gettext_lazy("Submit the claim")),
    "resubmit": Transition(
        (S.NEEDS_INFO,), S.INVESTIGATING, CLAIMANT, gettext_lazy("Send the answer and resubmit")
    ),
    "withdraw": Transition(
        (S.SUBMITTED, S.NEEDS_INFO), S.WITHDRAWN, CLAIMANT, gettext_lazy("Withdraw the claim")
    ),
    # Once, within the appeal period, with a reason (the note); a panel is drawn (SPEC 4).
    "appeal": Transition(
        (S.REJECTED,), S.PANEL_REVIEW, CLAIMANT, gettext_lazy("Appeal the rejection"), True
    ),
    # The investigator's.
    "assign": Transition((S.SUBMITTED,), S.INVESTIGATING, INVESTIGATOR, gettext_lazy("Take it")),
    "report": Transition(
        (S.INVESTIGATING,), S.INVESTIGATED, INVESTIGATOR, gettext_lazy("File the report"), True
    ),
    "request_info": Transition(
        (S.INVESTIGATING, S.INVESTIGATED),
        S.NEEDS_INFO,
        INVESTIGATOR,
        gettext_lazy("Ask the claimant for information"),
        True,
    ),
    # The investigator confirms the illness was first diagnosed in the observation period: the
    # claim is refused and the membership ends (SPEC 3). Needs `first_diagnosed_on`.
    "end_in_waiting": Transition(
        (S.INVESTIGATING, S.INVESTIGATED),
        S.REJECTED,
        INVESTIGATOR,
        gettext_lazy("Refuse: first diagnosed in the observation period"),
        True,
    ),
    # The adjudicator's.
    "approve": Transition(
        (S.INVESTIGATED,), S.PUBLIC_NOTICE, ADJUDICATOR, gettext_lazy("Approve for public notice")
    ),
    "reject": Transition((S.INVESTIGATED,), S.REJECTED, ADJUDICATOR, gettext_lazy("Reject"), True),
    # Only when the claim's panel could not decide (fewer than 5 votes cast, or a tie).
    "decide_approve": Transition(
        (S.PANEL_REVIEW,), S.APPROVED, ADJUDICATOR, gettext_lazy("Approve for the panel"), True
    ),
    "decide_reject": Transition(
        (S.PANEL_REVIEW,), S.REJECTED, ADJUDICATOR, gettext_lazy("Reject for the panel"), True
    ),
    # The system's: only the job or service that owns each one makes it.
    "close_notice": Transition(
        (S.PUBLIC_NOTICE,), S.APPROVED, SYSTEM, gettext_lazy("Notice ended without objection")
    ),
    "object": Transition(
        (S.PUBLIC_NOTICE,), S.PANEL_REVIEW, SYSTEM, gettext_lazy("Objected: to a member panel")
    ),
    "panel_approve": Transition(
        (S.PANEL_REVIEW,), S.APPROVED, SYSTEM, gettext_lazy("Approved by the member panel")
    ),
    "panel_reject": Transition(
        (S.PANEL_REVIEW,), S.REJECTED, SYSTEM, gettext_lazy("Rejected by the member panel")
    ),
    "apportion": Transition(
        (S.APPROVED,), S.APPORTIONED, SYSTEM, gettext_lazy("Included in a batch")
    ),
    "pay": Transition((S.APPORTIONED,), S.PAID, SYSTEM, gettext_lazy("Payout paid")),
    # A wind-down's close (pools.winddown): the claimant's answer never came within the pool's
    # last claim window, and a closed pool pays nothing more.
    "expire_unanswered": Transition(
        (S.NEEDS_INFO,),
        S.WITHDRAWN,
        SYSTEM,
        gettext_lazy("Withdrawn: no answer before the pool's last claim window ended"),
    ),
}


def action_label(name: str) -> str:
    """The words a person reads for an action (pages, admin, API, emails)."""
    rule = TRANSITIONS.get(name)
    return str(rule.label) if rule else name


def event_label(event: ClaimEvent) -> str:
    """The event in a person's words: the action, then the state it led to."""
    return f"{action_label(event.action)} → {Claim.Status(event.to_status).label}"


def available_actions(user, claim: Claim) -> list[str]:
    """The transitions this user may make on this claim now: pages and the admin show exactly
    these, and perform() accepts nothing else."""
    actions = []
    for name, rule in TRANSITIONS.items():
        if rule.actor == SYSTEM or claim.status not in rule.sources:
            continue
        try:
            _check_actor(claim, user, name, rule)
            _check_guard(claim, name, {})
        except (PermissionDenied, ValidationError):
            continue
        actions.append(name)
    return actions


def _check_actor(claim: Claim, user, name: str, rule: Transition):
    if rule.actor == SYSTEM:
        raise PermissionDenied(_("This step is made by the system, never by a person."))
    if user is None or not user.is_authenticated:
        raise PermissionDenied(_("Please sign in."))
    if rule.actor == CLAIMANT:
        if claim.claimant_id != user.pk:
            raise PermissionDenied(_("Only the claimant may do this."))
        return
    if not has_role(user, rule.actor):
        raise PermissionDenied(_("This needs the %(role)s role.") % {"role": rule.actor})
    if claim.claimant_id == user.pk:
        raise PermissionDenied(_("Staff never work on a claim of their own account or family."))
    if rule.actor == INVESTIGATOR and claim.investigator_id not in (None, user.pk):
        raise PermissionDenied(_("This claim is assigned to another investigator."))
    if rule.actor == ADJUDICATOR and claim.investigator_id == user.pk:
        raise PermissionDenied(_("Four eyes: the investigator of a claim cannot also decide it."))


def check_adjudicator(claim: Claim, user):
    """Raise PermissionDenied unless the user may decide this claim as its adjudicator."""
    _check_actor(claim, user, "decide_approve", TRANSITIONS["decide_approve"])


def _check_guard(claim: Claim, name: str, details: dict):
    guard = GUARDS.get(name)
    if guard is not None:
        guard(claim, **details)


@transaction.atomic
def perform(claim: Claim, action: str, *, user, note: str = "", **details) -> Claim:
    """A person's transition, from a request: refused unless available_actions() offers it.

    `details` carries what a transition needs beyond a note (end_in_waiting: first_diagnosed_on).
    """
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise ValidationError(_("Unknown action."), code="unknown")
    claim = _locked(claim)
    _check_state(claim, rule)
    _check_actor(claim, user, action, rule)
    return _move(claim, action, rule, user, note, details)


@transaction.atomic
def run_system(claim: Claim, action: str, *, note: str = "", actor=None, **details) -> Claim:
    """A system transition, for the job or service that owns it (never from a request).
    `actor` is the person behind it when there is one (an operator starting a batch)."""
    rule = TRANSITIONS[action]
    if rule.actor != SYSTEM:
        raise PermissionDenied(f"{action} is not a system transition")
    claim = _locked(claim)
    _check_state(claim, rule)
    return _move(claim, action, rule, actor, note, details)


def run_system_many(claim_ids: Iterable[int], action: str, *, note: str = "", actor=None):
    """A system transition of many claims at once (a batch's claims), set-based: one conditional
    UPDATE, one ClaimEvent each and one evidence-log record each. Claims no longer in a source
    state are left alone, so running it twice is harmless. Returns the ids moved."""
    rule = TRANSITIONS[action]
    if rule.actor != SYSTEM:
        raise PermissionDenied(f"{action} is not a system transition")
    with transaction.atomic():
        ids = list(
            Claim.objects.select_for_update()
            .filter(pk__in=list(claim_ids), status__in=rule.sources)
            .order_by("pk")
            .values_list("pk", "status")
        )
        if not ids:
            return []
        Claim.objects.filter(pk__in=[pk for pk, _status in ids]).update(
            status=rule.target, updated_at=timezone.now()
        )
        actor_id = actor.pk if actor is not None else None
        ClaimEvent.objects.bulk_create(
            ClaimEvent(
                claim_id=pk,
                action=action,
                from_status=source,
                to_status=rule.target,
                actor_id=actor_id,
                note=note,
            )
            for pk, source in ids
        )
        evidence_log.append_many(
            "claim." + action,
            [
                {"claim": pk, "from": source, "to": rule.target, "actor": actor_id}
                for pk, source in ids
            ],
        )
    return [pk for pk, _status in ids]


def _locked(claim: Claim) -> Claim:
    return (
        Claim.objects.select_for_update()
        .select_related("pool", "membership__person")
        .get(pk=claim.pk)
    )


def _check_state(claim: Claim, rule: Transition):
    if claim.status not in rule.sources:
        raise ValidationError(
            _("Already decided: this claim is now %(status)s.")
            % {"status": claim.get_status_display()},
            code="already_decided",
        )


def _move(claim: Claim, name: str, rule: Transition, user, note: str, details: dict) -> Claim:
    note = (note or "").strip()
    if rule.note_required and not note:
        raise ValidationError(_("Please write a note: it is required here."), code="note")
    _check_guard(claim, name, details)
    if name in CHECKS:
        CHECKS[name](claim)
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
    AFTER.get(name, lambda *args, **kwargs: None)(claim, user, note, now, **details)
    # The claimant hears of every change made by someone else, and gets a receipt on submit.
    if user is None or user.pk != claim.claimant_id or name == "submit":
        notify_claimant(claim, name)
    return claim


# --- guards: conditions beyond the state and the actor ------------------------------------------


# Registered by the modules that own them (`register`): the appeal window and the undecided
# panel (notice.services) decide whether an action is offered at all; a check (the claim's
# submit checks in claims.services) refuses the move itself, with its reasons.
GUARDS: dict[str, Callable] = {}
CHECKS: dict[str, Callable] = {}


# --- what each transition writes besides the status ---------------------------------------------


def _submit(claim, user, note, now, **details):
    claim.submitted_at = now


def _assign(claim, user, note, now, **details):
    claim.investigator = user


def _report(claim, user, note, now, **details):
    claim.investigation_report = note


def _approve(claim, user, note, now, **details):
    from pools.rules import rules_for

    person = claim.membership.person
    rules = rules_for(claim)  # the version in force on the diagnosis date (SPEC 11)
    if claim.scheme_id is not None:  # a sponsored scheme's fixed payout (SPEC 11)
        payout = claim.scheme.payout_cents
    else:
        payout = rules.payout_for_age(person.age_on(claim.diagnosis_date))
    if payout is None:
        raise ValidationError(_("The benefit schedule has no payout for this age."))
    claim.adjudicator = user
    claim.payout_cents = payout
    claim.notice_ends_at = now + dt.timedelta(days=rules.notice_days)


def _reject(claim, user, note, now, **details):
    claim.adjudicator = user


def _end_in_waiting(claim, user, note, now, first_diagnosed_on=None, **details):
    from members.services import end_in_waiting

    membership = claim.membership
    if claim.cause != Claim.Cause.ILLNESS:
        raise ValidationError(_("Accidents are covered from the first day."))
    if first_diagnosed_on is None:
        raise ValidationError(_("Please give the date the illness was first diagnosed."))
    if not membership.joined_on <= first_diagnosed_on < membership.waiting_ends_on:
        raise ValidationError(
            _("%(day)s is not in this membership's observation period (%(start)s to %(end)s).")
            % {
                "day": first_diagnosed_on,
                "start": membership.joined_on,
                "end": membership.waiting_ends_on,
            }
        )
    claim.first_diagnosed_on = first_diagnosed_on
    end_in_waiting(
        membership,
        user,
        f"claim {claim.pk}: illness first diagnosed on {first_diagnosed_on}, in the observation "
        "period",
    )


def _approved(claim, user, note, now, **details):
    claim.approved_at = now


APPLY: dict[str, Callable] = {
    "submit": _submit,
    "assign": _assign,
    "report": _report,
    "approve": _approve,
    "reject": _reject,
    "end_in_waiting": _end_in_waiting,
    "close_notice": _approved,
    "panel_approve": _approved,
    "decide_approve": _approved,
}
# After the move, in its transaction (registered by notice.services: the appeal's panel, the
# record of an adjudicator's decision).
AFTER: dict[str, Callable] = {}


def register(
    action: str,
    *,
    guard: Callable | None = None,
    check: Callable | None = None,
    after: Callable | None = None,
):
    """Let the module that owns a rule hook it to a transition (called when Django starts), so
    the workflow imports none of them: `guard(claim, **details)` and `check(claim)` raise
    ValidationError to refuse (a guard also hides the action); `after(claim, user, note, now,
    **details)` does the rest of the move's work."""
    assert action in TRANSITIONS, action
    for table, hook in ((GUARDS, guard), (CHECKS, check), (AFTER, after)):
        if hook is not None:
            table[action] = hook
