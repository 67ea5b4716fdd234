import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apportionment.models import Batch
from mutualaid.templatetags.money import cents
from pools.models import Pool
from reports import charts, services


def public_batches():
    return Batch.objects.filter(status__in=Batch.PUBLIC_STATUSES).select_related("pool")


def index(request):
    """Every published batch, with charts per pool."""
    batches = list(public_batches().order_by("cutoff_at"))
    year = timezone.now().year
    pools = []
    for pool in Pool.objects.order_by("pk"):
        own = [b for b in batches if b.pool_id == pool.pk]
        if not own:
            continue
        labels = [b.cutoff_at.strftime("%Y-%m-%d") for b in own]
        pools.append(
            {
                "pool": pool,
                "batches": list(reversed(own)),
                "share_chart": charts.bars(
                    list(zip(labels, [b.base_share_cents for b in own], strict=True)), cents
                ),
                "members_chart": charts.line(
                    list(zip(labels, [b.participants for b in own], strict=True))
                ),
                "ytd": services.year_to_date_share(pool, own, year),
                "year": year,
            }
        )
    return render(request, "reports/index.html", {"pools": pools})


def detail(request, pk):
    batch = get_object_or_404(public_batches(), pk=pk)
    context = {"batch": batch, "cases": services.batch_cases(batch)}
    return render(request, "reports/detail.html", context)


@login_required
def proof_download(request, pk):
    """The signed-in member's proofs for this batch, as a file for tools/verify_charge.py."""
    batch = get_object_or_404(public_batches(), pk=pk)
    body = json.dumps(services.proofs_for(batch, request.user), indent=2)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="proof-batch-{batch.pk}.json"'
    return response
