from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims import services, workflow
from claims.forms import ClaimForm, DraftForm, EvidenceForm
from claims.models import Claim, Evidence
from mutualaid import throttling
from notice import services as notice_services

NEXT_STEP = {
    Claim.Status.DRAFT: gettext_lazy("Finish the claim and submit it."),
    Claim.Status.SUBMITTED: gettext_lazy("An investigator will take the claim."),
    Claim.Status.INVESTIGATING: gettext_lazy("The investigator is checking the evidence."),
    Claim.Status.NEEDS_INFO: gettext_lazy("Answer the investigator's question, then resubmit."),
    Claim.Status.INVESTIGATED: gettext_lazy("An adjudicator will decide."),
    Claim.Status.PUBLIC_NOTICE: gettext_lazy(
        "The case is on the public notice board; members may object."
    ),
    Claim.Status.APPROVED: gettext_lazy("Approved: the payout comes with the next batch."),
}


def next_step(claim: Claim) -> str:
    if claim.status == Claim.Status.REJECTED and claim.first_diagnosed_on:
        return _(
            "An investigator confirmed that the illness was first diagnosed on %(day)s, in the "
            "observation period, which is not covered. This membership has ended and the shares "
            "it paid were refunded to your wallet."
        ) % {"day": claim.first_diagnosed_on}
    return NEXT_STEP.get(claim.status, "")


# Refusals of the claim services that belong to one field of the claim form.
FIELD_OF_ERROR = {
    "type": "file",
    "type_mismatch": "file",
    "too_large": "file",
    "empty": "file",
    "too_many_files": "file",
    "claim_too_large": "file",
    "diagnosis_date": "diagnosis_date",
}


def _error_code(exc: ValidationError):
    """The code of a single error, or of a list's first one."""
    return getattr(exc, "code", None) or next(
        (error.code for error in getattr(exc, "error_list", [])), None
    )


@login_required
def claim_new(request):
    form = ClaimForm(request.POST or None, request.FILES or None, account=request.user)
    refused = throttling.creation_refused(request, form)  # the API's 'create' budget too
    if request.method == "POST" and not refused and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("membership", "file")}
        submit = "submit" in request.POST
        try:
            claim = services.file_claim(
                request.user,
                form.cleaned_data["membership"],
                submit=submit,
                evidence=form.cleaned_data["file"],
                **data,
            )
        except ValidationError as exc:
            form.add_error(FIELD_OF_ERROR.get(_error_code(exc)), exc)
        else:
            if not submit:
                messages.info(request, _("Your claim was saved as a draft."))
            return redirect("claim-detail", claim.pk)
    return render(request, "claims/new.html", {"form": form}, status=429 if refused else 200)


@login_required
def claim_detail(request, pk):
    """The claimant's page: timeline, next step, actions; a draft is edited and files added."""
    claim = get_object_or_404(
        Claim.objects.select_related("condition", "membership__person", "pool"),
        pk=pk,
        claimant=request.user,
    )
    is_draft = claim.status == Claim.Status.DRAFT
    edit_form = DraftForm(
        request.POST if request.POST.get("form") == "edit" else None,
        instance=claim,
        account=request.user,
    )
    upload_form = EvidenceForm(
        request.POST if request.POST.get("form") == "upload" else None, request.FILES or None
    )
    status = 200
    if request.method == "POST":
        form = request.POST.get("form")
        if form == "edit":
            done = _save_draft(request, claim, edit_form)
        elif form == "upload":
            done = _upload(request, claim, upload_form)
        else:
            status = _perform(request, claim)
            done = status == 302
        if done:
            return redirect("claim-detail", claim.pk)
    actions = workflow.available_actions(request.user, claim)
    context = {
        "claim": claim,
        "events": [
            (event, workflow.event_label(event)) for event in claim.events.select_related("actor")
        ],
        "evidence": claim.evidence.all(),
        "next_step": next_step(claim),
        "actions": [(name, workflow.TRANSITIONS[name]) for name in actions if name != "appeal"],
        "edit_form": edit_form if is_draft else None,
        "appeal_until": _open_appeal_deadline(claim) if "appeal" in actions else None,
        "upload_form": upload_form
        if claim.status in services.CLAIMANT_UPLOAD_STATUSES or upload_form.errors
        else None,
    }
    return render(request, "claims/detail.html", context, status=status)


def _perform(request, claim) -> int:
    """The claimant's transition (an appeal's reason is its note): 302 when made, else the
    refusal's status with its message, and nothing changed."""
    action = "appeal" if request.POST.get("form") == "appeal" else request.POST.get("action", "")
    note = request.POST.get("note") or request.POST.get("reason", "")
    try:
        workflow.perform(claim, action, user=request.user, note=note)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not do this."))
        return 403
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return 400
    if action == "appeal":
        messages.success(request, _("Your appeal was filed: a panel of members will decide."))
    else:
        label = workflow.action_label(action)
        messages.success(request, _("Done: %(action)s.") % {"action": label})
    return 302


def _open_appeal_deadline(claim):
    deadline = notice_services.appeal_deadline(claim)
    return deadline if deadline and deadline >= timezone.now() else None


def _save_draft(request, claim, form) -> bool:
    if not form.is_valid():
        return False
    try:
        services.update_draft(claim, request.user, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    messages.success(request, _("The draft was saved."))
    return True


def _upload(request, claim, form) -> bool:
    if not form.is_valid():
        return False
    try:
        services.upload_evidence(claim, request.user, form.cleaned_data["file"])
    except ValidationError as exc:
        form.add_error("file", exc)
        return False
    messages.success(request, _("The file was added to the claim."))
    return True


@login_required
def evidence_file(request, pk):
    """Evidence is served only to its claimant and to reviewers: 404 for anyone else."""
    evidence = get_object_or_404(Evidence.objects.select_related("claim"), pk=pk)
    if not services.can_see_claim(request.user, evidence.claim):
        raise Http404
    path = Path(settings.EVIDENCE_ROOT) / evidence.path
    if not path.is_file():
        raise Http404
    # Always a download, never rendered from our origin (a PDF can carry script); the
    # SecurityMiddleware adds X-Content-Type-Options: nosniff.
    return FileResponse(
        path.open("rb"),
        content_type=evidence.content_type,
        filename=evidence.original_name,
        as_attachment=True,
    )
