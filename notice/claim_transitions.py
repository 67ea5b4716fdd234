"""Claim status changes of the notice and panel flow, through claims.workflow (the one
transition table): each locks the claim, checks its state and writes the event and the
evidence-log record. A repeated or late call raises TransitionError and changes nothing."""

from django.core.exceptions import PermissionDenied, ValidationError

from claims import workflow
from claims.models import Claim


class TransitionError(ValidationError):
    """The claim is not (or no longer) in a state this change starts from."""


# An adjudicator deciding a claim its panel could not decide: the rules of their other decisions.
ADJUDICATION = workflow.Transition(
    (Claim.Status.PANEL_REVIEW,), Claim.Status.PANEL_REVIEW, workflow.ADJUDICATOR
)


def check_adjudicator(claim, user):
    """Raise PermissionDenied unless the user may decide this claim as its adjudicator (role,
    never their own account's claim, never a claim they investigated)."""
    workflow.check_actor(claim, user, "adjudicate_panel", ADJUDICATION)


def may_adjudicate(claim, user):
    try:
        check_adjudicator(claim, user)
    except PermissionDenied:
        return False
    return True


def _move(claim_id, action, user=None, note=""):
    try:
        claim = workflow.transition(Claim.objects.get(pk=claim_id), action, user, note)
    except ValidationError as exc:
        raise TransitionError(" ".join(exc.messages)) from exc
    return claim.status


def notice_to_approved(claim_id):
    return _move(claim_id, "close_notice")


def notice_to_panel(claim_id):
    return _move(claim_id, "object")


def rejected_to_panel(claim_id):
    return _move(claim_id, "appeal", note="appeal filed")


def panel_to_approved(claim_id, user=None, note=""):
    """By the panel's vote (no user) or by an adjudicator (the user, with their note)."""
    return _move(claim_id, "panel_approve", user, note)


def panel_to_rejected(claim_id, user=None, note=""):
    return _move(claim_id, "panel_reject", user, note)
