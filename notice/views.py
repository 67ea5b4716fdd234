"""Public notice pages, the claim's public record with the objection form, and jury service.
Every rule lives in notice.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from claims.anonymized import anonymized_case
from claims.models import Claim
from mutualaid import pagecache, throttling
from mutualaid.layout import render_page
from notice import selectors, services
from notice.board import board_page, public_claims, public_record
from notice.forms import ObjectionForm, VolunteerForm, VoteForm
from pools.rules import spec_default


def board(request):
    filters = {name: request.GET.get(name, "")[:100] for name in ("pool", "condition", "page")}
    content = pagecache.render_cached(
        request,
        "notice/_board.html",
        lambda: board_page(**filters),
        name="notice",
        scopes=[pagecache.NOTICE],
        timeout=pagecache.PUBLIC_SECONDS,
        extra=urlencode(filters),
    )
    return render_page(request, "notice/board.html", content)


def record(request, pk):
    """A claim's public record; on notice, signed-in members may object here."""
    claim = get_object_or_404(public_claims(), pk=pk)
    form = ObjectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if throttling.creation_refused(request, form):
            status = throttling.TOO_MANY
        elif form.is_valid():
            try:
                services.file_objection(claim, request.user, form.cleaned_data["reason"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Your objection was filed. Thank you."))
                return redirect("notice-record", claim.pk)
    context = {
        "claim": claim,
        "case": anonymized_case(claim),
        "record": public_record(claim),
        "form": form,
        "on_notice": claim.status == Claim.Status.PUBLIC_NOTICE,
    }
    return render(request, "notice/record.html", context, status=status)


@login_required
def volunteer(request):
    """The jury rules; volunteer for panels (accepting them) or withdraw."""
    form = VolunteerForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "withdraw":
            services.withdraw_from_panels(request.user)
            messages.success(request, _("You no longer volunteer for panels."))
            return redirect("jury-volunteer")
        if form.is_valid():
            services.volunteer_for_panels(request.user, form.cleaned_data["accept_rules"])
            messages.success(request, _("Thank you: you volunteer for panels."))
            return redirect("jury-volunteer")
    context = {
        "form": form,
        "volunteer": selectors.is_volunteer(request.user),
        # The usual numbers (SPEC 4); each pool's rules page gives its own.
        "rules": {
            "size": spec_default("panel_size"),
            "age": spec_default("juror_min_age"),
            "active_days": spec_default("juror_active_days"),
            "vote_days": spec_default("vote_days"),
            "min_votes": spec_default("min_votes"),
        },
    }
    return render(request, "notice/volunteer.html", context)


@login_required
def panel(request, pk):
    """A juror's page of one panel: the anonymized case, the objections and the vote form.
    Anyone who is not a juror of this panel gets 404."""
    seat = get_object_or_404(selectors.juror_seats(request.user), panel_id=pk)
    form = VoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.cast_vote(seat.panel, request.user, data["choice"], data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your vote was recorded. Thank you."))
            return redirect("panel", pk)
    claim = seat.panel.claim
    context = {
        "panel": seat.panel,
        "vote": getattr(seat, "vote", None),
        "case": anonymized_case(claim),
        "objections": list(claim.objections.values_list("reason", flat=True)),
        "appeal": getattr(claim, "appeal", None),
        "open": seat.panel.accepts_votes(timezone.now()),
        "form": form,
    }
    return render(request, "notice/panel.html", context)
