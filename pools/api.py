"""Pools and the condition catalogue: public, read-only."""

from rest_framework import permissions, serializers, viewsets

from mutualaid.api import router
from pools.models import BenefitBand, Condition, Pool


class BenefitBandSerializer(serializers.ModelSerializer):
    class Meta:
        model = BenefitBand
        fields = ["min_age", "max_age", "payout_cents"]


class PoolSerializer(serializers.ModelSerializer):
    benefit_bands = BenefitBandSerializer(many=True, read_only=True)

    class Meta:
        model = Pool
        fields = [
            "slug",
            "name",
            "name_zh",
            "description",
            "is_open",
            "min_join_age_days",
            "max_join_age_years",
            "exit_age_years",
            "waiting_days",
            "fee_rate_bp",
            "annual_cap_cents",
            "notice_days",
            "publish_days",
            "collect_days",
            "benefit_bands",
        ]


class PoolViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PoolSerializer
    permission_classes = [permissions.AllowAny]
    queryset = Pool.objects.prefetch_related("benefit_bands").order_by("pk")
    lookup_field = "slug"


class ConditionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Condition
        fields = ["code", "name", "name_zh", "category"]


class ConditionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ConditionSerializer
    permission_classes = [permissions.AllowAny]
    queryset = Condition.objects.order_by("code")
    lookup_field = "code"
    filterset_fields = ["category", "pools__slug"]


router.register("pools", PoolViewSet, basename="pool")
router.register("conditions", ConditionViewSet, basename="condition")
