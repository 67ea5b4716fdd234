"""Claim status changes owned by the notice/panel flow.

TEMPORARY: these must be switched to claims.workflow (the single transition table) at merge.
Each function locks the claim row, checks its current status and writes the new one with a
conditional UPDATE, so a repeated or late call changes nothing.
"""

from django.db import transaction

from claims.models import Claim

S = Claim.Status


class TransitionError(Exception):
    pass


def _move(claim_id, expected, new, **extra):
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim_id)
        if claim.status not in expected:
            raise TransitionError(f"claim {claim_id} is {claim.status}, not {expected}")
        n = Claim.objects.filter(pk=claim_id, status=claim.status).update(status=new, **extra)
        if n != 1:
            raise TransitionError(f"claim {claim_id} changed concurrently")
        return claim.status


def notice_to_approved(claim_id):
    return _move(claim_id, (S.PUBLIC_NOTICE,), S.APPROVED)


def notice_to_panel(claim_id):
    return _move(claim_id, (S.PUBLIC_NOTICE,), S.PANEL_REVIEW)


def rejected_to_panel(claim_id):
    return _move(claim_id, (S.REJECTED,), S.PANEL_REVIEW)


def panel_to_approved(claim_id, approved_at):
    return _move(claim_id, (S.PANEL_REVIEW,), S.APPROVED, approved_at=approved_at)


def panel_to_rejected(claim_id):
    return _move(claim_id, (S.PANEL_REVIEW,), S.REJECTED)
