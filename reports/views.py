import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apportionment.models import Batch, Charge
from mutualaid import pagecache
from mutualaid.layout import render_page
from reports import services
from reports.models import ShareForecast


def public_batches():
    return Batch.objects.filter(status__in=Batch.PUBLIC_STATUSES).select_related("pool")


def index(request):
    """Every published batch, with charts per pool."""
    content = pagecache.render_cached(
        request,
        "reports/_index.html",
        lambda: {"pools": services.overview(public_batches(), timezone.now().year)},
        name="reports",
        scopes=[pagecache.REPORTS],
        timeout=pagecache.PUBLIC_SECONDS,
    )
    return render_page(request, "reports/index.html", content)


def detail(request, pk):
    batch = get_object_or_404(public_batches(), pk=pk)
    has_charge = request.user.is_authenticated and (
        Charge.objects.of_batch(batch.pk).filter(account=request.user).exists()
    )
    cases, sponsored_cases = services.cases_by_payer(batch)
    context = {
        "batch": batch,
        "cases": cases,
        "sponsored_cases": sponsored_cases,
        "has_charge": has_charge,
        "forecast": ShareForecast.objects.filter(batch=batch).first(),
    }
    return render(request, "reports/detail.html", context)


@login_required
def proof_download(request, pk):
    """The signed-in member's proofs for this batch, as a file for tools/verify_charge.py."""
    batch = get_object_or_404(public_batches(), pk=pk)
    body = json.dumps(services.proofs_for(batch, request.user), indent=2)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="proof-batch-{batch.pk}.json"'
    return response
