from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from apportionment.models import Charge
from claims.models import Claim
from ledger.services import wallet_for
from members.models import Membership


def signup(request):
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        wallet_for(user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your account and wallet are ready."))
        return redirect("dashboard")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def dashboard(request):
    """Everything a member has with us on one page: memberships, wallet, charges, claims."""
    user = request.user
    memberships = (
        Membership.objects.filter(person__account=user)
        .select_related("person", "pool")
        .order_by("person_id", "pk")
    )
    charges = (
        Charge.objects.filter(membership__person__account=user)
        .select_related("batch__pool", "membership__person")
        .prefetch_related("batch__batch_claims__claim__condition")
        .order_by("-batch_id")[:20]
    )
    claims = Claim.objects.filter(claimant=user).select_related("condition", "membership__person")
    context = {
        "memberships": memberships,
        "wallet": wallet_for(user),
        "charges": charges,
        "claims": claims,
    }
    return render(request, "members/dashboard.html", context)
