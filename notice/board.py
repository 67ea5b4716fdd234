"""The anonymized public-notice view of a claim (SPEC 4): never a name, identity number or file."""

from collections import defaultdict

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q

from claims.anonymized import anonymized_case
from claims.models import Claim
from notice.models import Panel, Vote


def board_queryset(pool=None, condition=None):
    qs = (
        Claim.objects.filter(status=Claim.Status.PUBLIC_NOTICE)
        .select_related("pool", "condition", "membership__person")
        .order_by("notice_ends_at", "pk")
    )
    if pool:
        qs = qs.filter(pool__slug=pool)
    if condition:
        qs = qs.filter(condition__code=condition)
    return qs


def board_page(pool="", condition="", page=""):
    """One page of the public notice board, each case anonymized."""
    page = Paginator(board_queryset(pool, condition), 20).get_page(page)
    return {"page": page, "cases": [anonymized_case(c) for c in page.object_list]}


def public_claims():
    """Claims with a public record: every claim that went on public notice or to a panel."""
    return Claim.objects.filter(
        Q(notice_ends_at__isnull=False) | Exists(Panel.objects.filter(claim=OuterRef("pk")))
    ).select_related("pool", "condition", "membership__person", "appeal")


def public_record(claim):
    """What stays public about a claim besides its anonymized case: the objections' reasons,
    the date of an appeal, and each panel with its vote counts and, once its voting ended, the
    votes' reasons. Never who objected or who voted what."""
    panels = list(claim.panels.with_vote_counts().order_by("drawn_at", "pk"))
    ended = [panel for panel in panels if panel.status != Panel.Status.VOTING]
    reasons = defaultdict(list)
    votes = Vote.objects.filter(juror__panel__in=ended).order_by("choice", "pk")
    for panel_id, choice, reason in votes.values_list("juror__panel", "choice", "reason"):
        reasons[panel_id].append((Panel.Outcome(choice).label, reason))
    for panel in panels:
        panel.reasons = reasons[panel.pk]
    appeal = getattr(claim, "appeal", None)
    return {
        "objections": list(claim.objections.values_list("reason", flat=True)),
        "appealed_at": appeal.at if appeal else None,
        "panels": panels,
    }
