"""Claims and their evidence through the API: the same services as the web pages."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, parsers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from claims import services, workflow
from claims.models import Claim, Evidence, SponsoredScheme
from members.models import Membership
from mutualaid import throttling
from mutualaid.api import router
from pools.models import Condition


class ActionSerializer(serializers.Serializer):
    """A transition the caller may make now, in the words the claim page uses."""

    action = serializers.CharField()
    label = serializers.CharField()
    note_required = serializers.BooleanField()


class TransitionRequestSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=30)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class ClaimSerializer(serializers.ModelSerializer):
    membership = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none())
    condition = serializers.SlugRelatedField(slug_field="code", queryset=Condition.objects.all())
    scheme = serializers.PrimaryKeyRelatedField(
        queryset=SponsoredScheme.objects.none(), required=False, allow_null=True, default=None
    )
    submit = serializers.BooleanField(write_only=True, default=True)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "membership",
            "condition",
            "scheme",
            "cause",
            "diagnosis_date",
            "hospital",
            "province",
            "description",
            "status",
            "payout_cents",
            "submitted_at",
            "notice_ends_at",
            "actions",
            "submit",
        ]
        read_only_fields = ["status", "payout_cents", "submitted_at", "notice_ends_at"]

    @extend_schema_field(ActionSerializer(many=True))
    def get_actions(self, claim) -> list[dict]:
        request = self.context.get("request")
        user = request.user if request else None
        return [
            {"action": name, "label": str(rule.label), "note_required": rule.note_required}
            for name in workflow.available_actions(user, claim)
            for rule in [workflow.TRANSITIONS[name]]
        ]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request and request.user.is_authenticated:
            fields["membership"].queryset = Membership.objects.filter(person__account=request.user)
            fields["scheme"].queryset = SponsoredScheme.objects.filter(
                pool__memberships__person__account=request.user
            ).distinct()
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
        serializer.instance = services.file_claim(
            self.request.user, membership, submit=submit, **data
        )

    @extend_schema(request=TransitionRequestSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], serializer_class=TransitionRequestSerializer)
    def transition(self, request, pk=None):
        """Make one of the claim's `actions` (the same rules as the claim page): anything else is
        refused with 403 or 400 and changes nothing."""
        claim = self.get_object()
        serializer = TransitionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claim = workflow.perform(
            claim,
            serializer.validated_data["action"],
            user=request.user,
            note=serializer.validated_data["note"],
        )
        return Response(ClaimSerializer(claim, context={"request": request}).data)

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
            try:
                services.upload_evidence(claim, request.user, serializer.validated_data["file"])
            except ValidationError as exc:
                if exc.code == "throttled":
                    raise exceptions.Throttled(detail=" ".join(exc.messages)) from exc
                raise
        return Response(EvidenceSerializer(claim.evidence.all(), many=True).data)


router.register("claims", ClaimViewSet, basename="claim")
