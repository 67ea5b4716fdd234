from mutualaid import pagecache
from mutualaid.layout import render_page
from pools.models import Pool
from reports.forecast import with_forecasts


def home(request):
    """The public list of pools with their rules in plain words."""
    content = pagecache.render_cached(
        request,
        "pools/_home.html",
        lambda: {
            "pools": with_forecasts(
                Pool.objects.filter(is_open=True).prefetch_related("benefit_bands")
            )
        },
        name="home",
        scopes=[pagecache.POOLS],
        timeout=pagecache.PUBLIC_SECONDS,
    )
    return render_page(request, "pools/home.html", content)
