"""Claim status changes of the notice and panel flow, through claims.workflow (the one
transition table): each locks the claim, checks its state and writes the event and the
evidence-log record. A repeated or late call raises TransitionError and changes nothing."""

from django.core.exceptions import ValidationError

from claims import workflow
from claims.models import Claim


class TransitionError(Exception):
    pass


def _move(claim_id, action, note=""):
    try:
        claim = workflow.transition(Claim.objects.get(pk=claim_id), action, None, note)
    except ValidationError as exc:
        raise TransitionError(" ".join(exc.messages)) from exc
    return claim.status


def notice_to_approved(claim_id):
    return _move(claim_id, "close_notice")


def notice_to_panel(claim_id):
    return _move(claim_id, "object")


def rejected_to_panel(claim_id):
    return _move(claim_id, "appeal", "appeal filed")


def panel_to_approved(claim_id, approved_at=None):
    return _move(claim_id, "panel_approve")


def panel_to_rejected(claim_id):
    return _move(claim_id, "panel_reject")
