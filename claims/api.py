"""Claims and their evidence through the API: the same services as the web pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, parsers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from claims import services, workflow
from claims.models import Claim, Evidence
from members.models import Membership
from mutualaid import throttling
from mutualaid.api import router
from pools.models import Condition


class ClaimSerializer(serializers.ModelSerializer):
    membership = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none())
    condition = serializers.SlugRelatedField(slug_field="code", queryset=Condition.objects.all())
    submit = serializers.BooleanField(write_only=True, default=True)

    class Meta:
        model = Claim
        fields = [
            "id",
            "membership",
            "condition",
            "cause",
            "diagnosis_date",
            "hospital",
            "province",
            "description",
            "status",
            "payout_cents",
            "submitted_at",
            "notice_ends_at",
            "submit",
        ]
        read_only_fields = ["status", "payout_cents", "submitted_at", "notice_ends_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request and request.user.is_authenticated:
            fields["membership"].queryset = Membership.objects.filter(person__account=request.user)
        return fields


class EvidenceSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True)

    class Meta:
        model = Evidence
        fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_at", "file"]
        read_only_fields = ["original_name", "content_type", "size", "sha256", "uploaded_at"]


class ClaimViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's own claims: create (and submit), list, detail, evidence."""

    serializer_class = ClaimSerializer
    queryset = Claim.objects.none()
    throttle_scope = throttling.CREATE

    def get_throttles(self):
        return throttling.creation_throttles(self.action == "create")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return Claim.objects.filter(claimant=self.request.user).order_by("-pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        submit = data.pop("submit")
        membership = data.pop("membership")
        claim = services.create_draft(self.request.user, membership, **data)
        if submit:
            claim = workflow.transition(claim, "submit", self.request.user)
        serializer.instance = claim

    @extend_schema(request=EvidenceSerializer, responses=EvidenceSerializer(many=True))
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[parsers.MultiPartParser],
        pagination_class=None,  # the claim's whole list, every time
        serializer_class=EvidenceSerializer,
    )
    def evidence(self, request, pk=None):
        claim = self.get_object()
        if request.method == "POST":
            serializer = EvidenceSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.upload_evidence(claim, request.user, serializer.validated_data["file"])
        return Response(EvidenceSerializer(claim.evidence.all(), many=True).data)


router.register("claims", ClaimViewSet, basename="claim")
