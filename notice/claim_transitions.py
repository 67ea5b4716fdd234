"""The system's claim moves of the notice and panel flow, through claims.workflow.run_system (the
one transition table): each locks the claim, checks its state and writes the event and the
evidence-log record. A repeated or late call raises TransitionError and changes nothing."""

from django.core.exceptions import PermissionDenied, ValidationError

from claims import workflow
from claims.models import Claim


class TransitionError(ValidationError):
    """The claim is not (or no longer) in a state this change starts from."""


def may_adjudicate(claim, user) -> bool:
    try:
        workflow.check_adjudicator(claim, user)
    except PermissionDenied:
        return False
    return True


def _move(claim_id, action):
    try:
        claim = workflow.run_system(Claim(pk=claim_id), action)
    except ValidationError as exc:
        raise TransitionError(" ".join(exc.messages)) from exc
    return claim.status


def notice_to_approved(claim_id):
    return _move(claim_id, "close_notice")


def notice_to_panel(claim_id):
    return _move(claim_id, "object")


def panel_to_approved(claim_id):
    """By the panel's vote."""
    return _move(claim_id, "panel_approve")


def panel_to_rejected(claim_id):
    return _move(claim_id, "panel_reject")
