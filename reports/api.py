"""Serializers of the open books' API parts (the viewsets register on mutualaid.api.router)."""

from rest_framework import serializers

from mutualaid.api import router  # noqa: F401


class StageRateSerializer(serializers.Serializer):
    rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    approved = serializers.IntegerField(help_text="Resolved claims from this stage approved.")
    resolved = serializers.IntegerField(help_text="0: no history, the default rate is used.")


class ForecastSerializer(serializers.Serializer):
    """Low / expected / high base share of the pool's next batch (reports.forecast)."""

    pool = serializers.CharField(source="pool.slug")
    made_at = serializers.DateTimeField()
    participants = serializers.IntegerField(help_text="Memberships waiting or active now.")
    approved_claims = serializers.IntegerField()
    approved_cents = serializers.IntegerField(help_text="Approved claims not yet in a batch.")
    review_claims = serializers.IntegerField()
    review_cents = serializers.IntegerField(help_text="Claims in review, if all were approved.")
    expected_payouts_cents = serializers.IntegerField()
    low_payouts_cents = serializers.IntegerField()
    high_payouts_cents = serializers.IntegerField()
    carried_cents = serializers.IntegerField(
        source="carried", help_text="D carried forward (negative: a surplus U)."
    )
    low_cents = serializers.IntegerField(help_text="10th percentile of the base share.")
    expected_cents = serializers.IntegerField()
    high_cents = serializers.IntegerField(help_text="90th percentile of the base share.")
    uses_default_rate = serializers.BooleanField(
        help_text="A claim in review was weighted by the default rate (no history for its stage)."
    )
    rates = serializers.DictField(
        child=StageRateSerializer(), help_text="Per review stage: the pool's approval rate."
    )
