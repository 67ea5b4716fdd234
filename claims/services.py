"""Claims: drafts, the automatic checks at submit (SPEC 4) and evidence uploads."""

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from claims import evidence_log, workflow
from claims.models import Claim, Evidence
from members.models import Membership
from mutualaid.roles import ADJUDICATORS, INVESTIGATORS, has_role
from pools.rules import rules_on
from pools.winddown import claim_window_problems

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# SPEC 4: per claim, at most this many files and bytes in all (a member must not fill the disk).
MAX_CLAIM_FILES = 20
MAX_CLAIM_BYTES = 50 * 1024 * 1024
# Per person uploading, across claims: counted in the database, so every process shares it.
UPLOADS_PER_HOUR = 30
# What the content says the file is -> the name endings that may claim it.
ALLOWED = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
}


def diagnosis_date_problems(membership: Membership, diagnosis_date) -> list[str]:
    """A diagnosis is not in the future (in the pool's time zone) nor before the person's birth:
    a post-dated diagnosis would step over the observation period (SPEC 4)."""
    if diagnosis_date is None:
        return []
    problems = []
    today = membership.pool.today()
    if diagnosis_date > today:
        problems.append(
            _("The diagnosis date %(day)s is in the future (today is %(today)s).")
            % {"day": diagnosis_date, "today": today}
        )
    if diagnosis_date < membership.person.birth_date:
        problems.append(_("The diagnosis date is before the person was born."))
    return problems


def _check_diagnosis_date(membership: Membership, diagnosis_date):
    problems = diagnosis_date_problems(membership, diagnosis_date)
    if problems:
        raise ValidationError([ValidationError(p, code="diagnosis_date") for p in problems])


def create_draft(user, membership: Membership, **fields) -> Claim:
    if membership.person.account_id != user.pk:
        raise ValidationError(_("This membership is not yours."), code="not_yours")
    _check_diagnosis_date(membership, fields.get("diagnosis_date"))
    return Claim.objects.create(
        membership=membership, pool=membership.pool, claimant=user, **fields
    )


def file_claim(user, membership: Membership, *, submit: bool, evidence=None, **fields) -> Claim:
    """A member's new claim (the claim form and the API): a draft, its first file and, when
    asked, its submission. A claim the submit checks would refuse is not created at all, so no
    stray draft waits in the investigators' queue; the member reads the reasons instead."""
    if membership.person.account_id != user.pk:
        raise ValidationError(_("This membership is not yours."), code="not_yours")
    evidence = read_evidence(evidence) if evidence else None  # its refusal first, by its field
    if submit:
        unsaved = Claim(membership=membership, pool=membership.pool, claimant=user, **fields)
        problems = submission_problems(unsaved)
        if problems:
            raise ValidationError([ValidationError(p, code="checks") for p in problems])
    with transaction.atomic():
        claim = create_draft(user, membership, **fields)
        if evidence:
            upload_evidence(claim, user, evidence)
    if submit:
        claim = workflow.perform(claim, "submit", user=user)
    return claim


# While these, the claimant may still add evidence (staff may add it at any time).
CLAIMANT_UPLOAD_STATUSES = (
    Claim.Status.DRAFT,
    Claim.Status.SUBMITTED,
    Claim.Status.INVESTIGATING,
    Claim.Status.NEEDS_INFO,
)


def update_draft(claim: Claim, user, **fields) -> Claim:
    """A saved draft is finished later: its details may change until it is submitted."""
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        if claim.claimant_id != user.pk:
            raise ValidationError(_("This claim is not yours."), code="not_yours")
        if claim.status != Claim.Status.DRAFT:
            raise ValidationError(_("Only a draft can be changed."), code="not_draft")
        membership = fields.get("membership", claim.membership)
        if membership.person.account_id != user.pk:
            raise ValidationError(_("This membership is not yours."), code="not_yours")
        _check_diagnosis_date(membership, fields.get("diagnosis_date", claim.diagnosis_date))
        for name, value in fields.items():
            setattr(claim, name, value)
        claim.pool = membership.pool
        claim.save()
    return claim


def submission_problems(claim: Claim) -> list[str]:
    """Every reason the claim cannot be submitted, in words a member understands. A sponsored
    scheme covers every participant for its event and period, from the first day and whatever
    the pool's conditions (`scheme_problems`)."""
    membership = claim.membership
    problems = diagnosis_date_problems(membership, claim.diagnosis_date)
    problems += claim_window_problems(claim.pool, claim.diagnosis_date)
    if membership.status not in Membership.PARTICIPATING_STATUSES:
        problems.append(
            _("This membership is %(status)s: only a waiting or active membership is covered.")
            % {"status": membership.get_status_display()}
        )
    if claim.diagnosis_date < membership.joined_on:
        problems.append(_("The diagnosis is from before this membership began."))
    elif (
        claim.scheme_id is None
        and claim.cause == Claim.Cause.ILLNESS
        and claim.diagnosis_date < membership.waiting_ends_on
    ):
        problems.append(
            _(
                "An illness first diagnosed during the observation period (until %(day)s) is "
                "not covered; accidents are covered from the first day."
            )
            % {"day": membership.waiting_ends_on}
        )
    if claim.scheme_id is not None:
        problems += scheme_problems(claim)
    # Judged by the rules in force on the diagnosis date (SPEC 11), not today's.
    elif not rules_on(claim.pool, claim.diagnosis_date).covers(claim.condition):
        problems.append(
            _("This condition is not covered by the pool's rules in force on %(day)s.")
            % {"day": claim.diagnosis_date}
        )
    others = Claim.objects.filter(membership=membership, scheme=claim.scheme_id).exclude(
        pk=claim.pk
    )
    if others.exclude(status__in=Claim.CLOSED_STATUSES).exists():
        problems.append(_("This membership already has an open or paid claim."))
    return problems


def scheme_problems(claim: Claim) -> list[str]:
    """A sponsored scheme's claim: the scheme is the pool's, the diagnosis in its period."""
    scheme = claim.scheme
    if scheme.pool_id != claim.pool_id:
        return [_("This sponsored scheme covers another pool.")]
    if not scheme.starts_on <= claim.diagnosis_date <= scheme.ends_on:
        return [
            _("The scheme for %(event)s covers diagnoses from %(start)s to %(end)s.")
            % {
                "event": scheme.display_event,
                "start": scheme.starts_on.isoformat(),
                "end": scheme.ends_on.isoformat(),
            }
        ]
    return []


def safe_name(name: str) -> str:
    """Keep only the base name, in safe characters (no path, no traversal)."""
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")
    return base[:100] or "file"


@dataclass(frozen=True)
class EvidenceFile:
    """An uploaded file whose size and type were checked, not stored yet."""

    data: bytes
    mime: str
    name: str


def read_evidence(uploaded) -> EvidenceFile:
    """A PDF/JPEG/PNG of at most 10 MB, its type checked by content; else a clear refusal."""
    if uploaded.size > MAX_EVIDENCE_BYTES:
        raise ValidationError(_("A file may be at most 10 MB."), code="too_large")
    data = uploaded.read(MAX_EVIDENCE_BYTES + 1)
    if len(data) > MAX_EVIDENCE_BYTES:
        raise ValidationError(_("A file may be at most 10 MB."), code="too_large")
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    kind = filetype.guess(data)
    mime = kind.mime if kind else None
    if mime not in ALLOWED:
        raise ValidationError(_("Only PDF, JPEG and PNG files are accepted."), code="type")
    name = safe_name(uploaded.name or "")
    if not name.lower().endswith(ALLOWED[mime]):
        raise ValidationError(
            _("The file's name says one type but its content is %(type)s.") % {"type": mime},
            code="type_mismatch",
        )
    return EvidenceFile(data, mime, name)


def upload_evidence(claim: Claim, user, uploaded) -> Evidence:
    """Store a checked file privately, within the claim's limits; else store nothing."""
    _check_claimant_may_upload(claim, user)
    checked = uploaded if isinstance(uploaded, EvidenceFile) else read_evidence(uploaded)
    data, mime, name = checked.data, checked.mime, checked.name
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{claim.pk}/{uuid.uuid4().hex}{ALLOWED[mime][0]}"
    target = Path(settings.EVIDENCE_ROOT) / relative
    with transaction.atomic():
        # The claim's row lock serialises its uploads: the limits hold under concurrency.
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        _check_claimant_may_upload(claim, user)
        _check_upload_limits(claim, user, len(data))
        evidence = Evidence.objects.create(
            claim=claim,
            uploaded_by=user,
            original_name=name,
            content_type=mime,
            size=len(data),
            sha256=digest,
            path=relative,
        )
        evidence_log.append(
            "evidence.upload",
            {"claim": claim.pk, "evidence": evidence.pk, "name": name, "by": user.pk},
            file_sha256=digest,
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return evidence


def _check_claimant_may_upload(claim: Claim, user):
    if claim.claimant_id == user.pk and claim.status not in CLAIMANT_UPLOAD_STATUSES:
        raise ValidationError(
            _("Evidence can be added only while the claim is prepared or investigated."),
            code="closed",
        )


def _check_upload_limits(claim: Claim, user, size: int):
    stored = Evidence.objects.filter(claim=claim).aggregate(files=Count("pk"), bytes=Sum("size"))
    if stored["files"] >= MAX_CLAIM_FILES:
        raise ValidationError(
            _("A claim may have at most %(n)d files.") % {"n": MAX_CLAIM_FILES},
            code="too_many_files",
        )
    if (stored["bytes"] or 0) + size > MAX_CLAIM_BYTES:
        raise ValidationError(
            _("A claim's files may be at most %(mb)d MB in all.")
            % {"mb": MAX_CLAIM_BYTES // (1024 * 1024)},
            code="claim_too_large",
        )
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    if (
        Evidence.objects.filter(uploaded_by=user, uploaded_at__gte=hour_ago).count()
        >= UPLOADS_PER_HOUR
    ):
        raise ValidationError(
            _("Too many uploads in the last hour; please try again later."), code="throttled"
        )


def can_see_claim(user, claim: Claim) -> bool:
    if claim.claimant_id == user.pk:
        return True
    return has_role(user, INVESTIGATORS) or has_role(user, ADJUDICATORS)


def _check_submission(claim: Claim):
    problems = submission_problems(claim)
    if problems:
        raise ValidationError(problems, code="checks")


workflow.register("submit", check=_check_submission)
