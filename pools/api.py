"""Pools and the condition catalogue: public, read-only."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from mutualaid.api import router
from pools import rules
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
            *rules.CACHED_ON_POOL,  # the rules in force today
            "publish_days",
            "collect_days",
            "benefit_bands",
        ]


class DifferenceSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The rule's name, as in this version's fields.")
    label = serializers.CharField()
    before = serializers.CharField(help_text="Empty for the pool's first version.")
    after = serializers.CharField()


class RuleVersionSerializer(serializers.Serializer):
    """One published version of a pool's rules and what it changed against the one before."""

    effective_on = serializers.DateField(source="version.effective_on")
    published_at = serializers.DateTimeField(source="version.published_at")
    note = serializers.CharField(source="version.note")
    in_force = serializers.BooleanField(help_text="Judges a diagnosis made today.")
    scheduled = serializers.BooleanField(help_text="Announced, not in force yet.")
    condition_codes = serializers.ListField(
        source="rules.values.condition_codes", child=serializers.CharField()
    )
    benefit_schedule = serializers.ListField(
        source="rules.values.benefit_schedule",
        child=serializers.ListField(child=serializers.IntegerField(), min_length=3, max_length=3),
        help_text="[min_age, max_age, payout_cents] rows, ages at diagnosis, inclusive.",
    )
    changes = DifferenceSerializer(many=True)


# Every number of a version, documented beside its coverage.
for _name in rules.NUMBERS:
    RuleVersionSerializer._declared_fields[_name] = serializers.IntegerField(
        source=f"rules.{_name}", help_text=str(rules.label(_name)), read_only=True
    )


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

    @extend_schema(responses=RuleVersionSerializer(many=True))
    @action(detail=True, pagination_class=None)
    def rules(self, request, slug=None):
        """Every published version of the pool's rules, newest first, with its differences
        against the version before (SPEC 11): a claim is judged by the one in force on its
        diagnosis date."""
        pool = self.get_object()
        return Response(RuleVersionSerializer(rules.history(pool), many=True).data)


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
