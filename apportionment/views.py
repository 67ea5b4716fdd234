from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import render

from apportionment.models import BatchClaim, Charge


@login_required
def my_charges(request):
    """Each of the member's charges with its batch and the claims it paid for."""
    charges = (
        Charge.objects.of_account(request.user)
        .select_related("batch__pool", "membership__person")
        .prefetch_related(
            Prefetch(
                "batch__batch_claims",
                queryset=BatchClaim.objects.select_related("claim__condition"),
            )
        )
        .order_by("-batch_id", "membership_id")
    )
    return render(request, "apportionment/my_charges.html", {"charges": charges})
