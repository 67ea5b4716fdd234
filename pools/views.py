from django.shortcuts import render

from pools.models import Pool


def home(request):
    """The public list of pools with their rules in plain words."""
    pools = Pool.objects.filter(is_open=True).prefetch_related("benefit_bands")
    return render(request, "pools/home.html", {"pools": pools})
