from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from claims.anonymized import AnonymizedCaseSerializer, anonymized_case
from mutualaid import throttling
from notice import services
from notice.board import board_queryset, public_claims
from notice.models import MAX_REASON, MIN_REASON, Objection


class NoticeCaseSerializer(AnonymizedCaseSerializer):
    pool = serializers.CharField()
    condition_code = serializers.CharField()
    investigation_summary = serializers.CharField(source="summary")
    notice_ends_at = serializers.DateTimeField(allow_null=True)
    days_left = serializers.IntegerField()


class NoticeList(ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = NoticeCaseSerializer

    def get_queryset(self):
        return board_queryset(
            self.request.query_params.get("pool"), self.request.query_params.get("condition")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = page if page is not None else self.get_queryset()
        data = NoticeCaseSerializer([anonymized_case(c) for c in rows], many=True).data
        if page is not None:
            return self.get_paginated_response(data)
        return Response(data)


class ObjectionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    reason = serializers.CharField(min_length=MIN_REASON, max_length=MAX_REASON)
    at = serializers.DateTimeField(read_only=True)


class ClaimObjections(GenericAPIView):
    """GET: the claim's objections (reasons only, no names). POST: file one (active members).
    A claim that never had a public record is answered as an unknown id: no existence oracle."""

    serializer_class = ObjectionSerializer
    queryset = Objection.objects.none()
    pagination_class = None  # a claim's objections are few: the whole list
    throttle_scope = throttling.CREATE

    def get_throttles(self):
        return throttling.creation_throttles(self.request.method == "POST")

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses=ObjectionSerializer(many=True))
    def get(self, request, pk):
        claim = get_object_or_404(public_claims(), pk=pk)
        rows = Objection.objects.filter(claim=claim).order_by("at", "pk")
        return Response(ObjectionSerializer(rows, many=True).data)

    @extend_schema(responses={201: ObjectionSerializer})
    def post(self, request, pk):
        claim = get_object_or_404(public_claims(), pk=pk)
        ser = ObjectionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        obj = services.file_objection(claim, request.user, ser.validated_data["reason"])
        return Response(ObjectionSerializer(obj).data, status=201)
