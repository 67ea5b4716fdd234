"""The anonymized public-notice view of a claim (SPEC 4): never a name, identity number or file."""

from django.utils import timezone

from claims.models import Claim


def age_band(age):
    if age < 18:
        return "0-17"
    if age >= 60:
        return "60+"
    low = 18 if age < 20 else age // 10 * 10
    return f"{low}-{age // 10 * 10 + 9}"


def board_queryset(pool=None, condition=None):
    qs = (
        Claim.objects.filter(status=Claim.Status.PUBLIC_NOTICE)
        .select_related("pool", "condition", "membership__person")
        .order_by("notice_ends_at", "pk")
    )
    if pool:
        qs = qs.filter(pool__slug=pool)
    if condition:
        qs = qs.filter(condition__code=condition)
    return qs


def anonymized(claim, now=None):
    now = now or timezone.now()
    person = claim.membership.person
    left = (claim.notice_ends_at - now).days if claim.notice_ends_at else 0
    return {
        "id": claim.pk,
        "pool": claim.pool.slug,
        "age_band": age_band(person.age_on(claim.diagnosis_date)),
        "sex": person.sex,
        "province": claim.province,
        "condition": claim.condition.name,
        "condition_code": claim.condition.code,
        "payout_cents": claim.payout_cents,
        "investigation_summary": claim.investigation_report,
        "notice_ends_at": claim.notice_ends_at,
        "days_left": max(left, 0),
    }
