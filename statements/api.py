"""GET /api/v1/statement/?year=: the caller's own statement (statements.services)."""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apportionment.api import CaseSerializer
from statements import services


class StatementBatchSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    pool = serializers.CharField(source="pool.slug", read_only=True)
    cutoff_at = serializers.DateTimeField()
    payouts_cents = serializers.IntegerField(help_text="P")
    fee_cents = serializers.IntegerField(help_text="F")
    surplus_cents = serializers.IntegerField(help_text="U")
    carried_in_cents = serializers.IntegerField(help_text="D")
    amount_cents = serializers.IntegerField(help_text="A = P + F - U + D")
    subsidy_cents = serializers.IntegerField(help_text="S: what the annual cap cut")
    participants = serializers.IntegerField(help_text="N")
    base_share_cents = serializers.IntegerField()


class StatementLineSerializer(serializers.Serializer):
    batch = StatementBatchSerializer()
    amount_cents = serializers.IntegerField(source="charge.amount_cents")
    capped_cents = serializers.IntegerField(
        source="charge.capped_cents", help_text="What the annual cap cut from this share."
    )
    payment_status = serializers.ChoiceField(choices=["paid", "unpaid", "written_off", "due"])
    cases = CaseSerializer(many=True)


class MembershipStatementSerializer(serializers.Serializer):
    membership = serializers.IntegerField(source="membership.pk")
    person = serializers.CharField(source="membership.person.full_name")
    pool = serializers.CharField(source="membership.pool.slug")
    annual_cap_cents = serializers.IntegerField()
    charged_cents = serializers.IntegerField()
    capped_cents = serializers.IntegerField()
    paid_cents = serializers.IntegerField()
    owed_cents = serializers.IntegerField(
        help_text="Charged and not paid (due, unpaid, written off)."
    )
    cap_left_cents = serializers.IntegerField()
    charges = StatementLineSerializer(source="lines", many=True)


class StatementSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    years = serializers.ListField(child=serializers.IntegerField())
    archived_batches = serializers.SerializerMethodField(
        help_text="Ids of the batches of the account's pools that year archived to files."
    )
    charged_cents = serializers.IntegerField()
    paid_cents = serializers.IntegerField()
    owed_cents = serializers.IntegerField()
    memberships = MembershipStatementSerializer(many=True)

    def get_archived_batches(self, statement) -> list[int]:
        return [batch.pk for batch in statement.archived]


@method_decorator(never_cache, name="dispatch")  # kept by no cache (statements.views)
class StatementView(APIView):
    """The caller's own statement for a calendar year: every charge of every membership of
    their account, its batch's figures and anonymized cases, paid or not, and the totals per
    membership against the annual cap."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "year",
                OpenApiTypes.INT,
                description="Four digits, from 2000 to this year; this year when left out.",
            )
        ],
        responses=StatementSerializer,
    )
    def get(self, request):
        year = services.statement_year(request.query_params.get("year"))
        statement = services.member_statement(user=request.user, year=year)
        return Response(StatementSerializer(statement).data)
