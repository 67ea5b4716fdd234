"""POST /api/v1/auth/token/: an API token for a username and password, asked anonymously."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings

from mutualaid import throttling


class CredentialsSerializer(AuthTokenSerializer):
    # No longer than the user column: a longer name never reaches django-axes' records.
    username = serializers.CharField(
        label=_("Username"),
        max_length=get_user_model()._meta.get_field("username").max_length,
        write_only=True,
    )
    password = serializers.CharField(
        label=_("Password"),
        max_length=4096,
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
    )
    token = None  # the answer's field: TokenSerializer


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class ObtainToken(ObtainAuthToken):
    """Anonymous by design (no authentication is read); JSON only; throttled per address by the
    default anonymous rate and the log-in budget, locked usernames answered 429."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
    serializer_class = CredentialsSerializer

    def get_throttles(self):
        return throttling.default_throttles()

    @extend_schema(
        operation_id="auth_token_create",
        request=CredentialsSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Missing fields or a wrong username or password."),
            429: OpenApiResponse(description="Too many attempts, or the account is locked."),
        },
        auth=[],  # no security requirement at all: anonymous (generators take [{}] as "signed in")
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid()
        wait = throttling.login_budget_wait(request)
        if wait is not None:
            raise Throttled(wait=wait, detail=str(throttling.LOGIN_BUDGET_MESSAGE))
        if getattr(request, "axes_locked_out", False):
            locked = str(throttling.LOCKED_MESSAGE)  # Throttled joins it to its "… seconds."
            raise Throttled(wait=throttling.lockout_seconds(), detail=locked)
        if serializer.errors:
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
