from django.db.models import Q

from mutualaid import pagecache
from mutualaid.layout import render_page
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
