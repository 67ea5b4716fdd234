"""Persons, memberships and the wallet: the same services as the web pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger.services import wallet_for
from members import services
from members.models import Membership, Person
from mutualaid import throttling
from mutualaid.api import router
from pools.models import Pool


class PersonSerializer(serializers.ModelSerializer):
    identity_number = serializers.CharField(write_only=True, max_length=40)
    masked_identity_number = serializers.CharField(read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "relationship",
            "full_name",
            "sex",
            "birth_date",
            "identity_number",
            "masked_identity_number",
            "province",
        ]


class OwnedMixin:
    """Only the caller's own rows: another member's are 404."""

    owner_path = "account"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.queryset.filter(**{self.owner_path: self.request.user})


class PersonViewSet(OwnedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PersonSerializer
    queryset = Person.objects.order_by("pk")
    # Creating a person answers whether an identity number is registered: the same budget as
    # claims and objections, so it is no fast oracle.
    throttle_scope = throttling.CREATE

    def get_throttles(self):
        return throttling.creation_throttles(self.action == "create")

    def perform_create(self, serializer):
        details = services.PersonDetails(**serializer.validated_data)
        serializer.instance = services.create_person(self.request.user, details)


class MembershipSerializer(serializers.ModelSerializer):
    pool = serializers.SlugRelatedField(slug_field="slug", queryset=Pool.objects.all())
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    declaration_accepted = serializers.BooleanField(write_only=True)
    rules_accepted = serializers.BooleanField(write_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "person",
            "pool",
            "status",
            "joined_at",
            "waiting_ends_on",
            "active_since",
            "declaration_accepted",
            "rules_accepted",
        ]
        read_only_fields = ["status", "joined_at", "waiting_ends_on", "active_since"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request and request.user.is_authenticated:
            fields["person"].queryset = Person.objects.filter(account=request.user)
        return fields


class MembershipViewSet(OwnedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = MembershipSerializer
    queryset = Membership.objects.select_related("pool").order_by("pk")
    owner_path = "person__account"
    filterset_fields = ["status", "pool__slug"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.enroll(
            self.request.user,
            data["pool"],
            person=data["person"],
            declaration_accepted=data["declaration_accepted"],
            rules_accepted=data["rules_accepted"],
        )

    @extend_schema(request=None, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        membership = services.withdraw_membership(self.get_object(), request.user)
        return Response(self.get_serializer(membership).data)

    @extend_schema(request=None, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        """Within 30 days of a lapse: pay the written-off charges from the wallet; the
        membership is active again with its original observation period."""
        membership = services.reinstate_membership(self.get_object(), request.user)
        return Response(self.get_serializer(membership).data)


class WalletSerializer(serializers.Serializer):
    balance_cents = serializers.IntegerField(read_only=True)


class TopUpSerializer(serializers.Serializer):
    amount_cents = serializers.IntegerField(min_value=1, max_value=services.MAX_TOP_UP_CENTS)


class WalletView(APIView):
    """The caller's wallet; POST tops it up through the (sandbox) payment provider."""

    @extend_schema(responses=WalletSerializer)
    def get(self, request):
        return Response({"balance_cents": wallet_for(request.user).balance_cents})

    @extend_schema(request=TopUpSerializer, responses=WalletSerializer)
    def post(self, request):
        serializer = TopUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wallet = services.top_up_wallet(request.user, serializer.validated_data["amount_cents"])
        return Response({"balance_cents": wallet.balance_cents}, status=status.HTTP_200_OK)


router.register("persons", PersonViewSet, basename="person")
router.register("memberships", MembershipViewSet, basename="membership")
