"""Pools and the condition catalogue: public, read-only."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from mutualaid.api import router
from pools.models import BenefitBand, Condition, Pool
from reports import forecast
from reports.api import ForecastSerializer


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

    @extend_schema(responses=ForecastSerializer)
    @action(detail=True)
    def forecast(self, request, slug=None):
        """Low / expected / high share of the pool's next batch, from the approved claims not
        yet in a batch and the claims in review weighted by the pool's past approval rates."""
        return Response(ForecastSerializer(forecast.forecast_for(self.get_object())).data)


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
