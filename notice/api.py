from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny

from notice.board import anonymized, board_queryset


class NoticeCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pool = serializers.CharField()
    age_band = serializers.CharField()
    sex = serializers.CharField()
    province = serializers.CharField()
    condition = serializers.CharField()
    condition_code = serializers.CharField()
    payout_cents = serializers.IntegerField(allow_null=True)
    investigation_summary = serializers.CharField()
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
        data = NoticeCaseSerializer([anonymized(c) for c in rows], many=True).data
        if page is not None:
            return self.get_paginated_response(data)
        from rest_framework.response import Response

        return Response(data)
