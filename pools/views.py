from django.db.models import Q
from django.shortcuts import get_object_or_404

from mutualaid import pagecache
from mutualaid.layout import render_page
from pools import rule_changes, rules
from pools.models import Pool, WindDown
from reports.forecast import with_forecasts


def home(request):
    """The public list of pools with their rules in plain words."""
    content = pagecache.render_cached(
        request,
        "pools/_home.html",
        lambda: {
            # A closing pool stays listed, with its banner, until it has closed.
            "pools": with_forecasts(
                Pool.objects.filter(
                    Q(is_open=True) | Q(wind_down__status=WindDown.Status.WINDING_DOWN)
                )
                .select_related("wind_down")
                .prefetch_related("benefit_bands")
            )
        },
        name="home",
        scopes=[pagecache.POOLS],
        timeout=pagecache.PUBLIC_SECONDS,
    )
    return render_page(request, "pools/home.html", content)


def pool_rules(request, slug):
    """Every version of a pool's rules, newest first, with what each changed (SPEC 11)."""

    def build():
        pool = get_object_or_404(Pool, slug=slug)
        return {
            "pool": pool,
            "versions": rules.history(pool),
            "notice_of_change_days": rule_changes.NOTICE_OF_CHANGE_DAYS,
        }

    content = pagecache.render_cached(
        request,
        "pools/_rules.html",
        build,
        name=f"rules:{slug}",
        scopes=[pagecache.POOLS],
        timeout=pagecache.PUBLIC_SECONDS,
    )
    return render_page(request, "pools/rules.html", content)
