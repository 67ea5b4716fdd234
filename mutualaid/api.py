"""API plumbing shared by every app: the v1 router and JSON errors for every 4xx."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

router = DefaultRouter()


def exception_handler(exc, context):
    """Every error answers JSON with a `detail` message, including service-level refusals."""
    if isinstance(exc, DjangoValidationError):
        messages = exc.messages
        return Response(
            {"detail": " ".join(messages), "errors": messages},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoPermissionDenied) and str(exc):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        response.data = {"detail": "Invalid input.", "errors": response.data}
    elif response is not None and isinstance(response.data, list):
        response.data = {"detail": " ".join(map(str, response.data)), "errors": response.data}
    return response


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {},
    },
    "required": ["detail"],
}
ERROR_STATUSES = {
    "400": "Invalid input or a refused request; `detail` says why.",
    "401": "Not signed in, or a wrong token.",
    "403": "Not allowed (or a session request without its CSRF token).",
    "404": "Not found (or not yours).",
    "406": "The Accept header asks for something other than JSON.",
    "413": "Request body too large.",
    "415": "Unsupported body type: JSON, or multipart for uploads.",
    "429": "Too many requests: see Retry-After.",
}
BODY_STATUSES = {"413", "415"}  # only where the operation takes a body
SIGNED_IN_STATUSES = {"401", "403"}  # not where no authentication is read at all


def add_error_responses(result, generator, request, public):
    """drf-spectacular hook: every operation documents the 4xx it can answer, each with our JSON
    error body (the ones an operation's own @extend_schema lists keep their description)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            anonymous_only = operation.get("security") in (None, [], [{}])
            for code, description in ERROR_STATUSES.items():
                if code in BODY_STATUSES and "requestBody" not in operation:
                    continue
                if code in SIGNED_IN_STATUSES and anonymous_only:
                    continue
                response = responses.setdefault(code, {"description": description})
                response["content"] = content
    return result
