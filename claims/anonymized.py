"""What the public may see of a claim (SPEC 4 and 7): one rule for the notice board, the batch
reports and the member statements. Never a name, an identity number or a file."""

from django.utils import timezone
from rest_framework import serializers

from claims.models import Claim
from pools.names import province_name


def age_band(age: int) -> str:
    """Children in one band and the over-60s in another, as few people share an exact age
    there; ten-year bands between (18-19 for the adults' first two years)."""
    if age < 18:
        return "0-17"
    if age >= 60:
        return "60+"
    low = 18 if age < 20 else age // 10 * 10
    return f"{low}-{age // 10 * 10 + 9}"


def anonymized_case(claim: Claim, now=None) -> dict:
    """The case as the public sees it (the claim's membership, person, pool and condition
    should be selected with it)."""
    now = now or timezone.now()
    person = claim.membership.person
    left = (claim.notice_ends_at - now).days if claim.notice_ends_at else 0
    return {
        "id": claim.pk,
        "pool": claim.pool.slug,
        "age_band": age_band(person.age_on(claim.diagnosis_date)),
        "sex": person.get_sex_display(),
        "province": province_name(claim.province),
        "condition": claim.condition.display_name,
        "condition_code": claim.condition.code,
        "payout_cents": claim.payout_cents,
        "summary": claim.investigation_report,
        "notice_ends_at": claim.notice_ends_at,
        "days_left": max(left, 0),
    }


class AnonymizedCaseSerializer(serializers.Serializer):
    """The fields every public view of a case has; the notice board adds its own."""

    id = serializers.IntegerField()
    age_band = serializers.CharField()
    sex = serializers.CharField()
    province = serializers.CharField()
    condition = serializers.CharField()
    payout_cents = serializers.IntegerField(allow_null=True)
