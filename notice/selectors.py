"""What a member sees of their jury service."""

from notice import claim_transitions
from notice.models import Juror, JuryVolunteer, Panel


def juror_seats(user):
    """The user's seats on panels, each with its panel, the anonymized case's rows and the vote."""
    return Juror.objects.filter(user=user).select_related(
        "panel__claim__pool",
        "panel__claim__condition",
        "panel__claim__membership__person",
        "panel__claim__appeal",
        "vote",
    )


def is_volunteer(user):
    return JuryVolunteer.objects.filter(user=user, accepted_rules_at__isnull=False).exists()


def jury_service(user, limit=10):
    """For the dashboard: whether the member volunteers, and their latest panels."""
    seats = (
        Juror.objects.filter(user=user)
        .select_related("panel", "vote")
        .order_by("-panel__drawn_at", "-pk")[:limit]
    )
    return {"volunteer": is_volunteer(user), "seats": seats}


def panel_to_adjudicate(claim, user):
    """The claim's panel that could not decide, with its vote counts, when this user may decide
    the claim in its place; else None."""
    panel = claim.panels.with_vote_counts().filter(status=Panel.Status.NEEDS_ADJUDICATOR).first()
    if panel is None or not claim_transitions.may_adjudicate(claim, user):
        return None
    return panel
