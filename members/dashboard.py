"""What the dashboard shows a member, and its rendered content kept in the shared cache.

The content is cached per member and language under the scopes "member:<id>" (bumped by every
write to what this member sees) and "members" (bumped by writes shared by many dashboards:
batches, panels, pools, set-based status changes); see mutualaid.invalidation.
"""

from django.utils import timezone

from apportionment.models import Charge
from claims.models import Claim
from ledger.services import wallet_for
from members.models import Membership
from mutualaid import pagecache
from notice.selectors import jury_service
from pools.models import WindDown
from pools.winddown import wind_down_of
from reports.forecast import PARTICIPANT_STATUSES, forecasts

CACHE_SECONDS = 300  # an upper bound only: every write the page shows bumps its scopes


def dashboard_context(user) -> dict:
    """Everything a member has with us: memberships, wallet, charges, claims, jury service,
    and the forecast of the next share of each pool they take part in."""
    memberships = list(
        Membership.objects.filter(person__account=user)
        .select_related("person", "pool__wind_down")
        .order_by("person_id", "pk")
    )
    pools = {m.pool_id: m.pool for m in memberships if m.status in PARTICIPANT_STATUSES}
    # The pools of theirs that are closing or closed: a banner each (SPEC 11).
    closing = {m.pool_id: m.pool for m in memberships if wind_down_of(m.pool)}
    closed = {pk for pk, pool in closing.items() if pool.wind_down.status == WindDown.Status.CLOSED}
    charges = (
        Charge.objects.of_account(user)
        .select_related("batch__pool", "membership__person")
        .prefetch_related("batch__batch_claims__claim__condition")
        .order_by("-batch_id")[:20]
    )
    claims = Claim.objects.filter(claimant=user).select_related("condition", "membership__person")
    return {
        "email": user.email,
        "notifications": user.notifications.all()[:10],
        "memberships": memberships,
        "forecasts": list(forecasts(list(pools.values())).values()),
        "closing_pools": list(closing.values()),
        # Not while the wallet still pays for an open membership (winddown.request_payback).
        "may_request_payback": bool(closed)
        and not any(m.is_open and m.pool_id not in closed for m in memberships),
        "wallet": wallet_for(user),
        "charges": charges,
        "claims": claims,
        "jury": jury_service(user),
        "today": timezone.localdate(),
    }


def dashboard_content(request):
    user = request.user
    return pagecache.render_cached(
        request,
        "members/_dashboard.html",
        lambda: dashboard_context(user),
        name="dashboard",
        scopes=[pagecache.member(user.pk), pagecache.MEMBERS],
        timeout=CACHE_SECONDS,
        extra=str(user.pk),
    )
