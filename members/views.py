from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from apportionment.models import Batch
from ledger.services import wallet_for
from members import accounts, services
from members.dashboard import dashboard_content
from members.forms import EmailForm, JoinForm, SignupForm, TopUpForm
from members.models import Membership
from mutualaid import auth, throttling
from mutualaid.layout import render_page
from pools import winddown
from pools.models import Pool

# Which form field a refusal of the enrollment service belongs to (None: the whole form).
REFUSAL_FIELD = {
    "format": "identity_number",
    "checksum": "identity_number",
    "date": "identity_number",
    "birth_date": "identity_number",
    "duplicate_id": "identity_number",
    "declaration": "declaration",
    "rules": "rules",
}


@throttling.posts_limited(throttling.SIGNUP)
def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        wallet_for(user)
        accounts.send_verification(request, user, form.cleaned_data["email"])
        login(request, user, backend=auth.PATH)
        messages.success(
            request,
            _(
                "Welcome! Your account and wallet are ready. We sent a link to %(email)s: open "
                "it to receive our messages there."
            )
            % {"email": form.cleaned_data["email"]},
        )
        return redirect("dashboard")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def dashboard(request):
    """Everything a member has with us on one page (members.dashboard)."""
    return render_page(request, "members/dashboard.html", dashboard_content(request))


@login_required
def join(request):
    """Enroll the account holder or a family member; every refusal is a form error."""
    form = JoinForm(request.POST or None, account=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        details = None
        if not data["person"]:
            details = services.PersonDetails(
                **{name: data[name] for name in JoinForm.NEW_PERSON_FIELDS}
            )
        try:
            membership = services.enroll(
                request.user,
                data["pool"],
                person=data["person"],
                details=details,
                declaration_accepted=data["declaration"],
                rules_accepted=data["rules"],
            )
        except ValidationError as exc:
            field = {
                "format": "identity_number",
                "checksum": "identity_number",
                "date": "identity_number",
                "birth_date": "identity_number",
                "duplicate_id": "identity_number",
                "declaration": "declaration",
                "rules": "rules",
            }.get(exc.code)
            form.add_error(field, exc)
        else:
            messages.success(
                request,
                _("%(name)s joined %(pool)s. Illness cover starts on %(day)s.")
                % {
                    "name": membership.person.full_name,
                    "pool": membership.pool,
                    "day": membership.waiting_ends_on,
                },
            )
            return redirect("dashboard")
    pools = Pool.objects.filter(is_open=True).prefetch_related("benefit_bands")
    recent = {
        pool.pk: Batch.objects.filter(pool=pool, status__in=Batch.PUBLIC_STATUSES).order_by(
            "-cutoff_at"
        )[:3]
        for pool in pools
    }
    rules = [(pool, recent[pool.pk]) for pool in pools]
    return render(request, "members/join.html", {"form": form, "rules": rules})


def _own_membership(request, pk) -> Membership:
    """One of the signed-in member's memberships (another member's is 404)."""
    return get_object_or_404(
        Membership.objects.select_related("person", "pool"), pk=pk, person__account=request.user
    )


def _confirmed(request, act, success: str):
    """The POST of a confirmation page: the service's refusal or its success as a message."""
    try:
        act()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("dashboard")


@login_required
def withdraw(request, pk):
    """A confirmation page, then the withdrawal (POST)."""
    membership = _own_membership(request, pk)
    if request.method == "POST":
        return _confirmed(
            request,
            lambda: services.withdraw_membership(membership, request.user),
            _("The membership was withdrawn."),
        )
    return render(request, "members/withdraw.html", {"membership": membership})


@login_required
def reinstate(request, pk):
    """A confirmation page with what it costs, then the reinstatement (POST)."""
    membership = _own_membership(request, pk)
    if request.method == "POST":
        return _confirmed(
            request,
            lambda: services.reinstate_membership(membership, request.user),
            _("The membership is reinstated."),
        )
    if membership.status != Membership.Status.LAPSED:
        return redirect("dashboard")  # nothing to reinstate (the dashboard shows its status)
    context = {
        "membership": membership,
        "owed_cents": services.written_off_cents(membership),
        "wallet": wallet_for(request.user),
    }
    return render(request, "members/reinstate.html", context)


@login_required
def top_up(request):
    form = TopUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.top_up_wallet(request.user, form.amount_cents())
        except ValidationError as exc:
            form.add_error("amount", exc)
        else:
            messages.success(request, _("Your wallet was topped up."))
            return redirect("dashboard")
    return render(request, "members/top_up.html", {"form": form})


@login_required
def email_change(request):
    """Ask for a new address: it replaces the old one once its link is opened."""
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.send_verification(request, request.user, form.cleaned_data["email"])
        messages.success(
            request,
            _("We sent a link to %(email)s: open it to use that address.")
            % {"email": form.cleaned_data["email"]},
        )
        return redirect("dashboard")
    return render(request, "registration/email_change.html", {"form": form})


@login_required
def verify_email(request, token):
    try:
        email = accounts.verify(request.user, token)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your email address is now %(email)s.") % {"email": email})
    return redirect("dashboard")


@login_required
def payback(request):
    """A confirmation page, then the wallet's balance paid back (POST): once a pool of the
    member's has closed (SPEC 11)."""
    if request.method == "POST":
        return _confirmed(
            request,
            lambda: winddown.request_payback(user=request.user),
            _("Your wallet's balance will be paid back to you."),
        )
    return render(request, "members/payback.html", {"wallet": wallet_for(request.user)})
