"""Batches (public figures once published) and the caller's own charges."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apportionment.models import Batch, Charge
from claims.anonymized import AnonymizedCaseSerializer
from mutualaid.api import router
from reports import services


class BatchSerializer(serializers.ModelSerializer):
    pool = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    claims = serializers.SerializerMethodField()
    shortfall_cents = serializers.IntegerField(
        read_only=True,
        help_text="Charges of this batch written off at a lapse: sponsor + carried forward.",
    )

    class Meta:
        model = Batch
        fields = [
            "id",
            "pool",
            "status",
            "cutoff_at",
            "collect_on",
            "payouts_cents",
            "fee_cents",
            "surplus_cents",
            "carried_in_cents",
            "amount_cents",
            "subsidy_cents",
            "shortfall_cents",
            "shortfall_sponsor_cents",
            "shortfall_carried_cents",
            "participants",
            "base_share_cents",
            "remainder_cents",
            "annual_cap_cents",
            "merkle_root",
            "merkle_total_cents",
            "evidence_head",
            "published_at",
            "collected_at",
            "paid_out_at",
            "claims",
        ]

    def get_claims(self, batch) -> list[int]:
        return [item.claim_id for item in batch.batch_claims.all()]


class CaseSerializer(AnonymizedCaseSerializer):
    summary = serializers.CharField()


class BatchReportSerializer(BatchSerializer):
    """A batch's public report: its figures and its anonymized cases."""

    cases = serializers.SerializerMethodField()

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "cases"]

    @extend_schema_field(CaseSerializer(many=True))
    def get_cases(self, batch):
        return services.batch_cases(batch)


class PathStepSerializer(serializers.Serializer):
    hash = serializers.CharField()
    sum = serializers.IntegerField()
    side = serializers.ChoiceField(choices=["left", "right"])


class ChargeProofSerializer(serializers.Serializer):
    batch_id = serializers.IntegerField()
    membership_id = serializers.IntegerField()
    amount_cents = serializers.IntegerField()
    salt = serializers.CharField()
    leaf = serializers.CharField()
    path = PathStepSerializer(many=True)


class ProofSerializer(serializers.Serializer):
    batch_id = serializers.IntegerField()
    merkle_root = serializers.CharField()
    merkle_total_cents = serializers.IntegerField(allow_null=True)
    proofs = ChargeProofSerializer(many=True)


class BatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Published batches of every pool: readable without signing in (open books)."""

    serializer_class = BatchSerializer

    def get_serializer_class(self):
        return BatchReportSerializer if self.action == "retrieve" else BatchSerializer

    @extend_schema(responses=ProofSerializer)
    @action(detail=True, permission_classes=[permissions.IsAuthenticated])
    def proof(self, request, pk=None):
        """The caller's own charges in this batch, each with its Merkle audit path."""
        return Response(services.proofs_for(self.get_object(), request.user))

    permission_classes = [permissions.AllowAny]
    queryset = (
        Batch.objects.filter(status__in=Batch.PUBLIC_STATUSES)
        .select_related("pool")
        .prefetch_related("batch_claims")
        .order_by("-pk")
    )
    filterset_fields = ["pool__slug", "status"]


class ChargeSerializer(serializers.ModelSerializer):
    batch = serializers.PrimaryKeyRelatedField(read_only=True)
    membership = serializers.PrimaryKeyRelatedField(read_only=True)
    paid = serializers.SerializerMethodField()
    paid_at = serializers.SerializerMethodField()
    payment_status = serializers.ChoiceField(
        choices=["paid", "unpaid", "written_off", "due"], read_only=True
    )

    class Meta:
        model = Charge
        fields = [
            "id",
            "batch",
            "membership",
            "amount_cents",
            "capped_cents",
            "paid",
            "paid_at",
            "payment_status",
        ]

    def get_paid(self, charge) -> bool:
        return charge.payment_status == "paid"

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_paid_at(self, charge):
        paid_on = charge.paid_on
        return serializers.DateTimeField().to_representation(paid_on) if paid_on else None


class ChargeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own charges only (those of their account's memberships)."""

    serializer_class = ChargeSerializer
    queryset = Charge.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return (
            Charge.objects.of_account(self.request.user)
            .select_related("batch")
            .order_by("-batch_id", "membership_id")
        )


router.register("batches", BatchViewSet, basename="batch")
router.register("charges", ChargeViewSet, basename="charge")
